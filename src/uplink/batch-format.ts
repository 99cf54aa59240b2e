/**
 * The data message on <prefix>/<id>/data, one compact JSON object per batch:
 *
 *   {"v":1,"gw":"<gateway id>","r":[[sensor, ts, value, q, flags], ...]}
 *
 * sensor: string id; ts: UTC epoch ms; value: number or string (null for a non-finite
 * number, which JSON cannot carry); q: 0 good, 1 uncertain, 2 bad; flags: ReadingFlag
 * bits (1 REPLAYED: stored while the uplink was offline; 2 CLOCK_UNSYNCED).
 * Readings are in outbox order, which keeps per-sensor order.
 */
import { ReadingFlag } from '../core/reading';
import { qualityCode } from '../outbox/codec';
import type { ReadingSource, StoredReading } from '../outbox/types';

export const BATCH_FORMAT_VERSION = 1;

export type WireReading = [sensor: string, ts: number, value: number | string | null, q: number, flags: number];

export interface DataBatch {
  v: typeof BATCH_FORMAT_VERSION;
  gw: string;
  r: WireReading[];
  /** Present only on the uplink's delivery probe (then r is empty; see delivery-proof.ts). */
  probe?: string;
}

/** Sensors whose JSON prefix is remembered (the configured sensors, with room to spare). */
const MAX_CACHED_SENSORS = 10_000;
/** Sensor keys (outbox ids) below this index the prefix array; others go by name. */
const MAX_KEY = 1 << 20;
/** The encoder's text buffer to begin with; it grows to the largest batch and stays. */
const INITIAL_BYTES = 16 * 1024;
/** Bytes a reading takes besides its prefix and value text: `,` ts `,` `,` q `,` flags `]`. */
const READING_OVERHEAD = 48;

const NON_ASCII = /[\u0080-\uffff]/;
const isAscii = (s: string) => !NON_ASCII.test(s);

const COMMA = 0x2c;
const CLOSE = 0x5d; // ]
const ZERO = 0x30;

/**
 * Writes data messages straight into one buffer kept from batch to batch: the same
 * bytes as JSON.stringify of a DataBatch, without a WireReading array or a string per
 * reading (the uplink encodes a 1000-reading batch many times a second, and the text of
 * a batch built by concatenation was most of what the daemon allocates on steady
 * polling). ASCII text (ids, the JSON of a number, timestamps) is copied one byte a
 * character; text that is not ASCII goes through Buffer.write as UTF-8. The message
 * returned is a copy: mqtt.js holds a QoS 1 payload until its PUBACK. Keep one per
 * uplink: it remembers each sensor's `["sensor",` prefix.
 */
export class BatchEncoder {
  private readonly head: string;
  private readonly headAscii: boolean;
  /** `["sensor",` of each ASCII id seen (the only ones cached)… */
  private readonly prefixes = new Map<string, string>();
  /** …and by sensor key, where the rows have one: an index instead of two map look-ups a reading. */
  private readonly prefixByKey: (string | undefined)[] = [];
  private keySpace?: object;
  private out = Buffer.allocUnsafe(INITIAL_BYTES);

  constructor(gatewayId: string) {
    this.head = `{"v":${BATCH_FORMAT_VERSION},"gw":${JSON.stringify(gatewayId)},"r":[`;
    this.headAscii = isAscii(this.head);
  }

  /** Encode rows; rows with seq <= replayedUpTo get the REPLAYED flag. */
  encode(rows: ReadingSource, replayedUpTo: number): Buffer {
    this.reserve(0, this.head.length * 3 + 2);
    let off = this.text(this.head, 0, this.headAscii);
    // Readings of one sample tick share their timestamp: its text is made once.
    let lastTs = Number.NaN;
    let tsText = '';
    if (rows.keySpace !== this.keySpace) {
      this.prefixByKey.length = 0; // keys of another outbox
      this.keySpace = rows.keySpace;
    }
    for (let i = 0; i < rows.length; i++) {
      const ts = rows.ts(i);
      if (ts !== lastTs) {
        lastTs = ts;
        tsText = JSON.stringify(ts);
      }
      const value = rows.value(i);
      // JSON.stringify, not String() or a template: it writes NaN/Infinity as null, and
      // V8 keeps every String(number) in its number-string cache, which promotes a string
      // per distinct value into the old generation (heap growth under load).
      const json = JSON.stringify(value);
      const key = rows.sensorKey ? rows.sensorKey(i) : MAX_KEY;
      let prefix = key < MAX_KEY ? this.prefixByKey[key] : undefined;
      let prefixAscii = true;
      if (prefix === undefined) {
        const sensor = rows.sensor(i);
        prefix = this.prefixes.get(sensor);
        // Cached by name already, or now if ASCII and there is room: then by key too.
        let cached = prefix !== undefined;
        if (prefix === undefined) {
          prefix = `[${JSON.stringify(sensor)},`;
          prefixAscii = isAscii(prefix);
          cached = prefixAscii && this.prefixes.size < MAX_CACHED_SENSORS;
          if (cached) this.prefixes.set(sensor, prefix);
        }
        if (cached && key < MAX_KEY) this.prefixByKey[key] = prefix;
      }
      const flags = rows.seq(i) <= replayedUpTo ? rows.flags(i) | ReadingFlag.REPLAYED : rows.flags(i);
      this.reserve(off, (prefix.length + json.length) * 3 + tsText.length + READING_OVERHEAD);
      const out = this.out;
      if (i > 0) out[off++] = COMMA;
      off = this.text(prefix, off, prefixAscii);
      off = this.text(tsText, off, true);
      out[off++] = COMMA;
      off = this.text(json, off, typeof value !== 'string' || isAscii(json));
      out[off++] = COMMA;
      off = this.digits(qualityCode(rows.quality(i)), off);
      out[off++] = COMMA;
      off = this.digits(flags, off);
      out[off++] = CLOSE;
    }
    this.reserve(off, 2);
    this.out[off++] = CLOSE;
    this.out[off++] = 0x7d; // }
    return Buffer.from(this.out.subarray(0, off));
  }

  /** Room for `n` more bytes after `off`, keeping what is written. */
  private reserve(off: number, n: number): void {
    if (off + n <= this.out.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, off + n));
    this.out.copy(bigger, 0, 0, off);
    this.out = bigger;
  }

  /** Write `s` at `off` (room reserved), one byte a character when ASCII; the offset after it. */
  private text(s: string, off: number, ascii: boolean): number {
    if (!ascii) return off + this.out.write(s, off, 'utf8');
    const out = this.out;
    for (let k = 0; k < s.length; k++) out[off + k] = s.charCodeAt(k);
    return off + s.length;
  }

  /** A small non-negative integer (a quality code, the flag bits) in decimal. */
  private digits(n: number, off: number): number {
    if (n < 10) {
      this.out[off] = ZERO + n;
      return off + 1;
    }
    return this.text(String(n), off, true);
  }
}

/** An array of stored readings as the ReadingSource the encoder reads. */
export function storedReadingSource(rows: readonly StoredReading[]): ReadingSource {
  return {
    length: rows.length,
    seq: (i) => rows[i].seq,
    sensor: (i) => rows[i].sensor,
    ts: (i) => rows[i].ts,
    value: (i) => rows[i].value,
    quality: (i) => rows[i].quality,
    flags: (i) => rows[i].flags,
  };
}

/** Encode rows; rows with seq <= replayedUpTo get the REPLAYED flag. */
export function encodeBatch(gatewayId: string, rows: readonly StoredReading[], replayedUpTo: number): Buffer {
  return new BatchEncoder(gatewayId).encode(storedReadingSource(rows), replayedUpTo);
}

/** Parse a data message (for tests and cloud-side tools); throws on anything else. */
export function decodeBatch(payload: Buffer | string): DataBatch {
  const parsed = JSON.parse(payload.toString()) as Partial<DataBatch>;
  if (parsed.v !== BATCH_FORMAT_VERSION || typeof parsed.gw !== 'string' || !Array.isArray(parsed.r)) {
    throw new Error('not a fieldgate data batch (v1)');
  }
  return parsed as DataBatch;
}
