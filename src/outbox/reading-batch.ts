/**
 * A peeked run of committed readings, copied out of their chunks into columns and read
 * through accessors. The uplink reads a full batch (500 readings by default) many times a
 * second; no object is made per reading.
 */
import type { Quality } from '../core/reading';
import { qualityFromCode } from './codec';
import { TEXT_BIT, type ChunkView } from './chunk';
import type { ReadingSource, StoredReading } from './types';

/** Part of a chunk: readings start … start+count-1 of the view. */
export interface ChunkSegment {
  view: ChunkView;
  start: number;
  count: number;
}

export class ReadingBatch implements ReadingSource {
  readonly length: number;
  private readonly seqs: Float64Array;
  private readonly sensors: Uint32Array;
  private readonly qfs: Int32Array;
  private readonly tss: Float64Array;
  private readonly values: Float64Array;
  /** String values; a text reading's value column is its index here. */
  private readonly texts: string[] = [];

  /**
   * @param more true when committed readings past the last one here were left out
   *   (the limit was reached, or the next chunk would not have fitted whole).
   */
  constructor(
    segments: readonly ChunkSegment[],
    private readonly sensorNames: ReadonlyMap<number, string>,
    readonly more = false,
  ) {
    const n = segments.reduce((sum, s) => sum + s.count, 0);
    this.length = n;
    this.seqs = new Float64Array(n);
    this.sensors = new Uint32Array(n);
    this.qfs = new Int32Array(n);
    this.tss = new Float64Array(n);
    this.values = new Float64Array(n);
    let at = 0;
    for (const { view, start, count } of segments) {
      const end = start + count;
      this.sensors.set(view.sensor.subarray(start, end), at);
      this.qfs.set(view.qf.subarray(start, end), at);
      this.tss.set(view.ts.subarray(start, end), at);
      this.values.set(view.value.subarray(start, end), at);
      for (let i = start; i < end; i++) this.seqs[at + i - start] = view.first + view.seqOff[i];
      if (view.texts.length) {
        for (let i = start; i < end; i++) if (view.qf[i] & TEXT_BIT) this.values[at + i - start] = this.texts.push(view.texts[view.value[i]]) - 1;
      }
      at += count;
    }
  }

  seq(i: number): number {
    return this.seqs[i];
  }

  sensor(i: number): string {
    const id = this.sensors[i];
    return this.sensorNames.get(id) ?? `#${id}`;
  }

  /** The sensor's id in the outbox file (what sensor(i) names); the outbox's names map is the key space. */
  sensorKey(i: number): number {
    return this.sensors[i];
  }

  get keySpace(): object {
    return this.sensorNames;
  }

  ts(i: number): number {
    return this.tss[i];
  }

  /** The string value, else the number (NaN and ±Infinity as they were added). */
  value(i: number): number | string {
    return this.qfs[i] & TEXT_BIT ? this.texts[this.values[i]] : this.values[i];
  }

  quality(i: number): Quality {
    return qualityFromCode(this.qfs[i] & 3);
  }

  flags(i: number): number {
    return (this.qfs[i] & ~TEXT_BIT) >>> 2;
  }

  toStoredReadings(): StoredReading[] {
    const out: StoredReading[] = [];
    for (let i = 0; i < this.length; i++) out.push({ seq: this.seq(i), sensor: this.sensor(i), ts: this.ts(i), value: this.value(i), quality: this.quality(i), flags: this.flags(i) });
    return out;
  }
}
