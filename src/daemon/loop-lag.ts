import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Event-loop lag: how late a sampling timer fires (Node's monitorEventLoopDelay
 * records the time between firings, so the resolution is subtracted). Sampling
 * every 100 ms wakes an idle loop 10 times a second instead of 100; a stall of
 * S ms still shows as at least S − 100 ms of lag (the timer falls due at most
 * 100 ms into it and cannot fire until it ends); shorter stalls may go unseen.
 */
export class LoopLag {
  private readonly h: IntervalHistogram;

  constructor(readonly resolutionMs = 100) {
    this.h = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  enable(): void {
    this.h.enable();
  }

  disable(): void {
    this.h.disable();
  }

  /** Lag since enable(), ms (0 before the first sample). */
  stats(): { meanMs: number; p99Ms: number; maxMs: number } {
    const ms = (ns: number) => (Number.isFinite(ns) ? Math.max(0, Math.round(ns / 1e4) / 100 - this.resolutionMs) : 0);
    return { meanMs: ms(this.h.mean), p99Ms: ms(this.h.percentile(99)), maxMs: ms(this.h.max) };
  }
}
