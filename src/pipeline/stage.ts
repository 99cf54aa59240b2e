import type { z } from 'zod';
import type { Clock } from '../core/clock';
import type { Reading } from '../core/reading';

/**
 * A pipeline stage: one synchronous call per reading, reading in, reading (or
 * null = dropped) out. Stages keep their own state (ring buffers, last output)
 * and are created once per sensor, so state is never shared between sensors.
 *
 * Call order and concurrency: `process` is called from the event loop, one reading
 * at a time, in timestamp order as the driver delivered them; it must not do I/O
 * or allocate per call beyond the reading it returns. A stage may return the same
 * object it was given after changing `value`/`quality`.
 */
export interface Stage {
  process(r: Reading): Reading | null;
}

/**
 * Optional capability of a time-windowed stage (aggregate): `flush(now)` closes a
 * window on time even when no further reading arrives, and returns the reading to
 * pass on, if any. `nextFlush()` says when to call it: the earliest `now` at which
 * flush would return something (undefined while the stage holds nothing back).
 * The gateway arms one timer for the earliest of these; nothing runs while no
 * window is open.
 */
export interface FlushableStage extends Stage {
  flush(now: number): Reading | null;
  nextFlush(): number | undefined;
}

export function isFlushable(s: Stage): s is FlushableStage {
  return typeof (s as Partial<FlushableStage>).flush === 'function';
}

/** What a stage may use besides its own config. */
export interface StageContext {
  clock: Clock;
  /** Id of the sensor this stage instance belongs to. */
  sensor: string;
  /** Latest processed reading of another sensor (used by `compensate`). */
  latest(sensor: string): Reading | undefined;
}

/**
 * A stage kind: its config schema (a z.strictObject with `kind: z.literal(...)`,
 * defaults and .describe() texts) and its factory.
 */
export interface StageKind<C extends { kind: string } = { kind: string }> {
  kind: C['kind'];
  schema: z.ZodType<C>;
  create(config: C, ctx: StageContext): Stage;
  /** Sensors this stage reads besides its own (for config cross-checks). */
  references?(config: C): string[];
  /**
   * True when a null from this stage means "nothing new to report" (deadband,
   * hysteresis, a window still filling, a misfire held back) rather than "this
   * sample is unusable" (range). A sample such a stage holds back still shows
   * that the sensor is alive: it never makes the sensor stale.
   */
  suppresses?: boolean;
}
