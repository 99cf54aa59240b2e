import type { Clock } from '../../src/core/clock';
import type { EdgeCallback, GpioLine, GpioLineFactory, Level, LineRequest } from './line';

interface FakePin {
  level: Level;
  direction?: 'in' | 'out';
  watcher?: EdgeCallback;
  claimed: boolean;
  /** Levels written to the pin as an output, in order. */
  writes: Level[];
}

/** One raw edge of a train: the level and its time relative to the train's start. */
export interface FakeEdge {
  atMs: number;
  value: Level;
}

/**
 * An in-memory GPIO chip for tests, at the GpioLine seam. Inputs take injected
 * edges (single, or bouncy trains with exact timestamps driven through a
 * VirtualClock); outputs record what was written. `failWith` makes open()
 * throw, to test error paths (EACCES, ENOENT).
 */
export class FakeGpioChip implements GpioLineFactory {
  readonly name = 'fake';
  private readonly pins = new Map<number, FakePin>();
  failWith: Error | undefined;

  constructor(private readonly clock: Clock) {}

  async open(req: LineRequest): Promise<GpioLine> {
    if (this.failWith) throw this.failWith;
    const p = this.pin(req.pin);
    if (p.claimed) throw Object.assign(new Error(`fake: pin ${req.pin} is busy`), { code: 'EBUSY' });
    p.claimed = true;
    p.direction = req.direction;
    if (req.direction === 'out') p.level = req.initial;
    const pin = req.pin;
    return {
      pin,
      read: async () => this.pin(pin).level,
      write: async (v) => {
        const q = this.pin(pin);
        if (q.direction !== 'out') throw new Error(`fake: pin ${pin} is not an output`);
        q.level = v;
        q.writes.push(v);
      },
      watch: (cb) => {
        this.pin(pin).watcher = cb;
      },
      unwatch: () => {
        this.pin(pin).watcher = undefined;
      },
      release: async () => {
        const q = this.pin(pin);
        q.claimed = false;
        q.watcher = undefined;
      },
    };
  }

  /** Set the level of an input without an edge (e.g. before the driver starts). */
  setLevel(pin: number, value: Level): void {
    this.pin(pin).level = value;
  }

  level(pin: number): Level {
    return this.pin(pin).level;
  }

  /** Levels written to an output pin, in order. */
  writes(pin: number): Level[] {
    return [...this.pin(pin).writes];
  }

  isClaimed(pin: number): boolean {
    return this.pin(pin).claimed;
  }

  isWatched(pin: number): boolean {
    return this.pin(pin).watcher !== undefined;
  }

  /** One edge now: sets the level and calls the watcher with clock.now(). */
  edge(pin: number, value: Level): void {
    const p = this.pin(pin);
    p.level = value;
    p.watcher?.(value, this.clock.now());
  }

  /**
   * A train of edges at exact times relative to now. Needs a clock that can
   * be advanced (VirtualClock): advances to each edge, fires it, and leaves the
   * clock at the last edge; debounce timers due in between fire in order.
   */
  train(pin: number, edges: FakeEdge[], clock: { advance(ms: number): void }): void {
    let at = 0;
    for (const e of [...edges].sort((a, b) => a.atMs - b.atMs)) {
      clock.advance(e.atMs - at);
      at = e.atMs;
      this.edge(pin, e.value);
    }
  }

  /** n clean pulses (rise then fall), each `highMs` high, one every `periodMs`, starting now. */
  pulses(pin: number, n: number, periodMs: number, highMs: number, clock: { advance(ms: number): void }): void {
    const edges: FakeEdge[] = [];
    for (let i = 0; i < n; i++) edges.push({ atMs: i * periodMs, value: 1 }, { atMs: i * periodMs + highMs, value: 0 });
    this.train(pin, edges, clock);
  }

  private pin(n: number): FakePin {
    let p = this.pins.get(n);
    if (!p) {
      p = { level: 0, claimed: false, writes: [] };
      this.pins.set(n, p);
    }
    return p;
  }
}
