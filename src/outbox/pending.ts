/**
 * Rows the outbox accepted but has not committed yet, in arrival order (readings and
 * messages interleaved, as they will get their sequence numbers).
 *
 * Readings are copied into columns instead of keeping the Reading objects. At 100 000
 * readings/s a flush's worth of Reading objects outlives V8's young generation, so every
 * one of them would be promoted (or pretenured) into the old generation and left there
 * as garbage after the commit: that promotion rate is what made the daemon's heap, and
 * its RSS, grow under load. The columns are reused from commit to commit, so buffering a
 * reading allocates nothing in the steady state. Messages are rare; they stay objects.
 */
import type { Reading } from '../core/reading';
import type { OutboxMessage } from './types';
import { packQualityFlags } from './codec';

export interface PendingMessage {
  m: OutboxMessage;
  /** When it was accepted (epoch ms), stored as its commit time. */
  at: number;
}

const INITIAL_CAPACITY = 1024;

export class PendingRows {
  private n = 0;
  private sensors: string[] = [];
  /** String values; null where the value is a number (in `numbers`). */
  private texts: (string | null)[] = [];
  /** The message at a position; null for a reading. */
  private messages: (PendingMessage | null)[] = [];
  private tss = new Float64Array(INITIAL_CAPACITY);
  private numbers = new Float64Array(INITIAL_CAPACITY);
  private qfs = new Int32Array(INITIAL_CAPACITY);

  get length(): number {
    return this.n;
  }

  pushReading(r: Reading): void {
    const i = this.slot();
    this.sensors[i] = r.sensor;
    this.tss[i] = r.ts;
    if (typeof r.value === 'string') {
      this.texts[i] = r.value;
      this.numbers[i] = 0;
    } else {
      this.texts[i] = null;
      this.numbers[i] = r.value;
    }
    this.qfs[i] = packQualityFlags(r.quality, r.flags);
    this.messages[i] = null;
  }

  pushMessage(m: OutboxMessage, at: number): void {
    const i = this.slot();
    this.sensors[i] = '';
    this.texts[i] = null;
    this.messages[i] = { m, at };
  }

  /** The message at position i, or null when it is a reading. */
  message(i: number): PendingMessage | null {
    return this.messages[i];
  }

  sensor(i: number): string {
    return this.sensors[i];
  }

  ts(i: number): number {
    return this.tss[i];
  }

  /** The number value at i (meaningless when text(i) is not null). */
  number(i: number): number {
    return this.numbers[i];
  }

  text(i: number): string | null {
    return this.texts[i];
  }

  /** Quality and flags packed as stored (codec.packQualityFlags). */
  qf(i: number): number {
    return this.qfs[i];
  }

  /** Remove the oldest reading (messages are kept). Returns false when there is none. */
  dropOldestReading(): boolean {
    let idx = 0;
    while (idx < this.n && this.messages[idx] !== null) idx++;
    if (idx === this.n) return false;
    this.sensors.splice(idx, 1);
    this.texts.splice(idx, 1);
    this.messages.splice(idx, 1);
    this.tss.copyWithin(idx, idx + 1, this.n);
    this.numbers.copyWithin(idx, idx + 1, this.n);
    this.qfs.copyWithin(idx, idx + 1, this.n);
    this.n--;
    return true;
  }

  /** Forget every row (after a commit); the columns keep their capacity. */
  clear(): void {
    // Drop references to values and messages; sensor names are interned by the outbox anyway.
    this.texts.fill(null, 0, this.n);
    this.messages.fill(null, 0, this.n);
    this.n = 0;
  }

  private slot(): number {
    if (this.n === this.tss.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T, make: (len: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.tss = grow(this.tss, (len) => new Float64Array(len));
      this.numbers = grow(this.numbers, (len) => new Float64Array(len));
      this.qfs = grow(this.qfs, (len) => new Int32Array(len));
    }
    return this.n++;
  }
}
