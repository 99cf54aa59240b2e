/**
 * A fixed one-minute window counter: allows `max` events per window and counts
 * what it refuses. O(1) per event, no timers.
 */
export class MinuteBudget {
  private windowStart = -Infinity;
  private used = 0;
  refused = 0;

  constructor(private readonly max: number) {}

  /** Take one unit at `now`; false (and counted) when the window's budget is spent. */
  take(now: number): boolean {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used >= this.max) {
      this.refused++;
      return false;
    }
    this.used++;
    return true;
  }
}

/**
 * Whether a failed write will fail again however often it is retried: a value
 * the target cannot encode (RangeError from the codec) or a Modbus exception
 * 1-3 (illegal function, data address, data value: the device refuses the
 * request itself). Everything else (timeouts, a lost link, a busy device) is
 * worth the arbiter's retries.
 */
export function isPermanentWriteError(err: unknown): boolean {
  if (err instanceof RangeError) return true;
  const e = err as { kind?: unknown; code?: unknown } | null;
  return typeof e === 'object' && e !== null && e.kind === 'exception' && (e.code === 1 || e.code === 2 || e.code === 3);
}
