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
}

/**
 * The in-process fan-out of cleaned readings. No I/O on this path. A sink that
 * throws is counted and logged by the caller-supplied onError; the others still
 * get the reading.
 */
export class Hub {
  private sinks: Sink[] = [];

  constructor(private readonly onError: (err: unknown, sink: Sink) => void) {}

  subscribe(sink: Sink): () => void {
    this.sinks = [...this.sinks, sink];
    return () => {
      this.sinks = this.sinks.filter((s) => s !== sink);
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
}
