import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { everyOnGrid, type Clock, type GridTimer } from '../core/clock';

export interface LoopLagOptions {
  /** The clock the sampler runs on (and whose timers wrap() measures). */
  clock: Clock;
  /** Monotonic milliseconds to measure lateness with: performance.now() for the system clock, the clock's own time for a virtual one. */
  monotonic: () => number;
  /** Period of the sampler that bounds a stall when no other timer is due (default 1 000 ms). */
  sampleMs?: number;
}

/**
 * Event-loop lag, as how late timers fire: every timer set through wrap(clock)
 * knows when it is due and records how late its callback runs (an interval from
 * its previous firing, as Node schedules it), and a sampler timer every
 * `sampleMs` (1 s) bounds what nothing else would see. No timer of its own wakes
 * the loop more often than that (Node's monitorEventLoopDelay at 100 ms woke an
 * idle daemon 10 times a second).
 *
 * What a stall of S ms shows as (the max): at least S − d ms, where d is how far
 * into the stall the first timer fell due, and d ≤ 1 000 ms (the sampler): at
 * least S − 1 000 ms when nothing else is scheduled, close to S when a driver's
 * poll or the uplink's timers fall due during it. A stall that no timer falls due
 * in (shorter than 1 s, between two timers) goes unseen. Mean and p99 are over
 * all timer firings since enable().
 */
export class LoopLag {
  /** For p99 (3 significant digits); count, sum and max are kept exactly. */
  private readonly h: RecordableHistogram = createHistogram();
  private count = 0;
  private sumUs = 0;
  private maxUs = 0;
  private readonly sampleMs: number;
  private readonly timers: Clock;
  private sampler?: GridTimer;
  private enabled = false;

  constructor(private readonly opts: LoopLagOptions) {
    this.sampleMs = opts.sampleMs ?? 1000;
    this.timers = this.wrap(opts.clock);
  }

  /** `clock` with every timer callback measured: lateness is recorded between enable() and disable(). */
  wrap(clock: Clock): Clock {
    const now = this.opts.monotonic;
    const record = (lateMs: number) => {
      if (!this.enabled) return;
      const us = Math.max(0, Math.round(lateMs * 1000));
      this.count++;
      this.sumUs += us;
      if (us > this.maxUs) this.maxUs = us;
      this.h.record(Math.max(1, us)); // it holds integers ≥ 1
    };
    // Node runs a timer of less than 1 ms after 1 ms.
    const period = (ms: number) => Math.max(1, ms);
    return {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        const due = now() + period(ms);
        return clock.setTimeout(() => {
          record(now() - due);
          fn();
        }, ms);
      },
      clearTimeout: (h) => clock.clearTimeout(h),
      setInterval: (fn, ms) => {
        let due = now() + period(ms);
        return clock.setInterval(() => {
          const t = now();
          record(t - due);
          due = t + period(ms);
          fn();
        }, ms);
      },
      clearInterval: (h) => clock.clearInterval(h),
    };
  }

  enable(): void {
    if (this.enabled) return;
    this.enabled = true;
    this.sampler = everyOnGrid(this.timers, this.sampleMs, () => {});
  }

  disable(): void {
    this.enabled = false;
    this.sampler?.stop();
    this.sampler = undefined;
  }

  /** How late timers fired since enable(), ms (0 before the first firing). */
  stats(): { meanMs: number; p99Ms: number; maxMs: number } {
    if (this.count === 0) return { meanMs: 0, p99Ms: 0, maxMs: 0 };
    const ms = (us: number) => Math.round(us / 10) / 100;
    return { meanMs: ms(this.sumUs / this.count), p99Ms: ms(Math.min(this.maxUs, this.h.percentile(99))), maxMs: ms(this.maxUs) };
  }
}
