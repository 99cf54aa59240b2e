/**
 * Time as a collaborator. Every component that waits, times out or measures an
 * age takes a Clock, so tests drive backoff, for-durations, deadband max
 * intervals and heartbeats in virtual time instead of sleeping.
 */

/** Opaque timer handle returned by a Clock. */
export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /** Wall-clock UTC epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The real clock. Timers are unref'd so they never keep a stopping process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => {
    if (h) clearTimeout(h as unknown as NodeJS.Timeout);
  },
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t as unknown as TimerHandle;
  },
  clearInterval: (h) => {
    if (h) clearInterval(h as unknown as NodeJS.Timeout);
  },
};

/** A repeating timer made by everyOnGrid. */
export interface GridTimer {
  stop(): void;
}

/**
 * Run `fn` every `periodMs` at the multiples of `periodMs` in clock time (epoch ms), the
 * grid the Modbus polls use. The daemon's own once-a-second timers then fall due in the
 * same millisecond as each other and as 1 Hz polls, and the process wakes once a second
 * for all of them rather than once for each at the phase it happened to start at: on a
 * small VM a wake-up costs about 0.2 ms of CPU even for a timer that does nothing
 * (docs/architecture.md, "Timers of an idle daemon"). A firing that comes late (a
 * stalled loop) skips the grid points it missed; one that comes a little early (timers
 * count in whole loop milliseconds) still counts as the point it was armed for.
 */
export function everyOnGrid(clock: Clock, periodMs: number, fn: () => void): GridTimer {
  const period = Math.max(1, periodMs);
  const after = (t: number) => Math.floor(t / period) * period + period;
  let due = after(clock.now());
  let timer: TimerHandle | undefined;
  const arm = () => {
    timer = clock.setTimeout(fire, Math.max(0, due - clock.now()));
  };
  const fire = () => {
    due = Math.max(due + period, after(clock.now()));
    arm(); // before fn: a callback that throws does not end the timer, and one that stops it clears this one
    fn();
  };
  arm();
  return {
    stop: () => {
      clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}

interface VirtualTimer {
  id: number;
  at: number;
  fn: () => void;
  every: number; // 0 for one-shot
}

/**
 * A clock that only moves when told to. `advance(ms)` fires due timers in time
 * order (ties in creation order); `advanceAsync` also lets promise callbacks
 * run between timers, for code that awaits inside timer callbacks.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, VirtualTimer>();

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(h: TimerHandle | undefined): void {
    if (h !== undefined) this.timers.delete(h as unknown as number);
  }

  clearInterval(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }

  /** Number of pending timers (tests assert every timer is cleared in stop()). */
  pending(): number {
    return this.timers.size;
  }

  /** Set the wall clock without firing timers (e.g. an NTP step). */
  set(ms: number): void {
    this.t = ms;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.fire(next);
    }
    this.t = end;
  }

  async advanceAsync(ms: number): Promise<void> {
    const end = this.t + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.fire(next);
      await flushMicrotasks();
    }
    this.t = end;
    await flushMicrotasks();
  }

  private add(fn: () => void, ms: number, every: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn, every });
    return id as unknown as TimerHandle;
  }

  private nextDue(end: number): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.at > end) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) best = timer;
    }
    return best;
  }

  private fire(timer: VirtualTimer): void {
    this.t = Math.max(this.t, timer.at);
    if (timer.every > 0) timer.at += timer.every;
    else this.timers.delete(timer.id);
    timer.fn();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
