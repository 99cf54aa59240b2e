/**
 * Readings are stored in chunks: the readings of one commit (at most CHUNK_MAX_READINGS)
 * in one row of the `chunks` table, instead of one row each. Inserting, peeking and
 * deleting a reading was most of the daemon's CPU per reading (a statement step, a B-tree
 * cell and an index entry each); a chunk costs one of each per commit.
 *
 * A chunk's blob holds its readings in seq order as columns, in the machine's byte order
 * (little-endian on every board fieldgate runs on), so each column can be viewed as a
 * typed array:
 *
 *   n × u32 seq − first | n × u32 sensor id | n × i32 qf | pad to 8 | n × f64 ts | n × f64 value
 *
 * qf is codec.packQualityFlags (bits 0-1 quality, 2.. flags); TEXT_BIT marks a string
 * value, whose `value` is then an index into the chunk's `texts` (a JSON array).
 * Sequence numbers within a chunk need not be contiguous: messages committed in the same
 * transaction take seqs between them. 28 bytes per reading, as the row layout took.
 */

export const TEXT_BIT = 1 << 30;
/** Readings per chunk at most (a larger commit is stored as several chunks). */
export const CHUNK_MAX_READINGS = 1024;

/** A chunk row as read back (the columns of `chunks`). */
export interface ChunkRow {
  first: number;
  last: number;
  n: number;
  data: Buffer;
  texts: string | null;
}

function layout(n: number): { sensor: number; qf: number; ts: number; value: number; bytes: number } {
  const ints = 12 * n;
  const ts = ints + ((8 - (ints % 8)) % 8);
  return { sensor: 4 * n, qf: 8 * n, ts, value: ts + 8 * n, bytes: ts + 16 * n };
}

/** A chunk's columns read in place (the blob is copied once when it is not 8-byte aligned). */
export class ChunkView {
  readonly n: number;
  readonly first: number;
  readonly seqOff: Uint32Array;
  readonly sensor: Uint32Array;
  readonly qf: Int32Array;
  readonly ts: Float64Array;
  readonly value: Float64Array;
  readonly texts: readonly string[];

  constructor(row: ChunkRow) {
    this.n = row.n;
    this.first = row.first;
    const l = layout(row.n);
    if (row.data.length !== l.bytes) throw new Error(`outbox chunk ${row.first}: ${row.data.length} bytes, expected ${l.bytes} for ${row.n} readings`);
    let bytes: Uint8Array = row.data;
    if (bytes.byteOffset % 8 !== 0) bytes = new Uint8Array(bytes);
    const { buffer, byteOffset } = bytes;
    this.seqOff = new Uint32Array(buffer, byteOffset, row.n);
    this.sensor = new Uint32Array(buffer, byteOffset + l.sensor, row.n);
    this.qf = new Int32Array(buffer, byteOffset + l.qf, row.n);
    this.ts = new Float64Array(buffer, byteOffset + l.ts, row.n);
    this.value = new Float64Array(buffer, byteOffset + l.value, row.n);
    this.texts = row.texts === null ? [] : (JSON.parse(row.texts) as string[]);
  }

  seq(i: number): number {
    return this.first + this.seqOff[i];
  }

  /** Index of the first reading with seq > afterSeq (n when there is none). */
  indexAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.first + this.seqOff[mid] <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The string value at i, or undefined when it is a number. */
  text(i: number): string | undefined {
    return this.qf[i] & TEXT_BIT ? this.texts[this.value[i]] : undefined;
  }
}

/** Builds chunk blobs; reused from commit to commit (its columns keep their capacity). */
export class ChunkWriter {
  private readonly capacity: number;
  private n = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  private firstTs = 0;
  private readonly seqOff: Uint32Array;
  private readonly sensor: Uint32Array;
  private readonly qf: Int32Array;
  private readonly ts: Float64Array;
  private readonly value: Float64Array;
  private texts: string[] = [];

  /** capacity: readings per chunk at most (1 … CHUNK_MAX_READINGS). */
  constructor(capacity = CHUNK_MAX_READINGS) {
    this.capacity = Math.max(1, Math.min(CHUNK_MAX_READINGS, Math.floor(capacity)));
    this.seqOff = new Uint32Array(this.capacity);
    this.sensor = new Uint32Array(this.capacity);
    this.qf = new Int32Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.value = new Float64Array(this.capacity);
  }

  get length(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  /** Add a reading; value is a number, or a string (qf must not carry TEXT_BIT). */
  push(seq: number, sensor: number, ts: number, value: number | string, qf: number): void {
    if (this.n >= this.capacity) throw new Error(`outbox chunk full (${this.capacity} readings)`);
    const i = this.n++;
    if (i === 0) {
      this.firstSeq = seq;
      this.firstTs = ts;
    }
    this.lastSeq = seq;
    this.seqOff[i] = seq - this.firstSeq;
    this.sensor[i] = sensor;
    this.ts[i] = ts;
    if (typeof value === 'string') {
      this.qf[i] = qf | TEXT_BIT;
      this.value[i] = this.texts.push(value) - 1;
    } else {
      this.qf[i] = qf;
      this.value[i] = value;
    }
  }

  /** Copy reading i of a view (for rewriting a chunk without some of its readings). */
  pushFrom(v: ChunkView, i: number): void {
    const text = v.text(i);
    this.push(v.seq(i), v.sensor[i], v.ts[i], text ?? v.value[i], v.qf[i] & ~TEXT_BIT);
  }

  /** The chunk's columns as one row, and start over. */
  take(): { first: number; last: number; n: number; ts: number; data: Buffer; texts: string | null } {
    const n = this.n;
    const l = layout(n);
    const data = Buffer.alloc(l.bytes);
    const put = (src: Uint32Array | Int32Array | Float64Array, at: number) => data.set(new Uint8Array(src.buffer, 0, n * src.BYTES_PER_ELEMENT), at);
    put(this.seqOff, 0);
    put(this.sensor, l.sensor);
    put(this.qf, l.qf);
    put(this.ts, l.ts);
    put(this.value, l.value);
    const row = { first: this.firstSeq, last: this.lastSeq, n, ts: this.firstTs, data, texts: this.texts.length ? JSON.stringify(this.texts) : null };
    this.clear();
    return row;
  }

  /** Start over without building a row. */
  clear(): void {
    this.n = 0;
    this.texts = [];
  }
}
