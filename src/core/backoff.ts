/**
 * Exponential backoff with full jitter: delay = random(0, min(max, initial * 2^attempt)).
 * Full jitter spreads a fleet of gateways reconnecting to a recovering broker instead
 * of having them retry in lockstep. `random` is injectable for deterministic tests.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Lower bound of every delay (defaults to 0; full jitter). */
  minMs?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  /** Delay before the next attempt; each call counts one failed attempt. `maxMs` lowers the cap for this one. */
  next(maxMs = this.opts.maxMs): number {
    const cap = Math.min(this.opts.maxMs, maxMs, this.opts.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const rnd = (this.opts.random ?? Math.random)();
    const min = Math.min(this.opts.minMs ?? 0, cap);
    return Math.round(min + rnd * (cap - min));
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}
