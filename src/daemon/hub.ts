import type { Reading } from '../core/reading';

/**
 * A consumer of cleaned readings (rules engine, outbox writer, diagnostics).
 *
 * accept() is called synchronously on the event loop for every reading that left
 * a sensor's pipeline, in the order produced. It must not do I/O or await; a sink
 * that needs I/O buffers and does it later (the outbox batches transactions).
 * The reading object is created per sample and nobody changes it after the hub
 * (pipelines mutate it only before), so a sink may keep it without copying.
 */
export interface Sink {
  accept(r: Reading): void;
  /**
   * Optional: a usable sample of `sensor` taken at `ts` that its pipeline held
   * back (deadband, hysteresis, a filling window). The sensor is alive; its last
   * reading still stands. Staleness is measured from these and accepted readings.
   */
  sampled?(sensor: string, ts: number): void;
}

/**
 * The in-process fan-out of cleaned readings. No I/O on this path. A sink that
 * throws is counted and logged by the caller-supplied onError; the others still
 * get the reading.
 */
export class Hub {
  private sinks: Sink[] = [];
  private samplers: Sink[] = [];

  constructor(private readonly onError: (err: unknown, sink: Sink) => void) {}

  subscribe(sink: Sink): () => void {
    this.sinks = [...this.sinks, sink];
    if (sink.sampled) this.samplers = [...this.samplers, sink];
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
      this.samplers = this.samplers.filter((s) => s !== sink);
    };
  }

  publish(r: Reading): void {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i].accept(r);
      } catch (err) {
        this.onError(err, sinks[i]);
      }
    }
  }

  /** A usable sample held back by its pipeline: tell the sinks that track liveness. */
  sampled(sensor: string, ts: number): void {
    const sinks = this.samplers;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i].sampled!(sensor, ts);
      } catch (err) {
        this.onError(err, sinks[i]);
      }
    }
  }
}
