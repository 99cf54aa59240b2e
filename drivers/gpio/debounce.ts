import type { Clock, TimerHandle } from '../../src/core/clock';
import type { Level } from './line';

/**
 * Debounce of one digital input. Raw edges restart a timer; when the level has
 * been stable for `windowMs` and differs from the last accepted level, the
 * change is accepted once, stamped with the time of the first edge of the
 * train (when the contact actually started to move). With windowMs = 0 every
 * raw change of level is accepted at once.
 *
 * Call order: prime() with the level read at start, then edge() per raw edge,
 * dispose() on stop (clears the timer).
 */
export class Debouncer {
  private accepted: Level | undefined;
  private raw: Level | undefined;
  private trainStart = 0;
  private timer: TimerHandle | undefined;
  /** Raw edges seen, and those absorbed by the debounce window (for health). */
  edges = 0;
  bounces = 0;

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly onChange: (value: Level, tsMs: number) => void,
  ) {}

  /** The initial level (no event). */
  prime(value: Level): void {
    this.accepted = value;
    this.raw = value;
  }

  get level(): Level | undefined {
    return this.accepted;
  }

  edge(value: Level, tsMs: number): void {
    this.edges++;
    if (this.windowMs <= 0) {
      this.raw = value;
      this.accept(value, tsMs);
      return;
    }
    if (this.timer === undefined) this.trainStart = tsMs;
    else this.bounces++;
    this.raw = value;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.settle(), this.windowMs);
  }

  dispose(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private settle(): void {
    this.timer = undefined;
    if (this.raw !== undefined) this.accept(this.raw, this.trainStart);
  }

  private accept(value: Level, tsMs: number): void {
    if (value === this.accepted) return;
    this.accepted = value;
    this.onChange(value, tsMs);
  }
}
