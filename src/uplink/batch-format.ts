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

const NON_ASCII = /[\u0080-\uffff]/;
const isAscii = (s: string) => !NON_ASCII.test(s);

/**
 * Writes data messages as text directly, one reading at a time: the same bytes as
 * JSON.stringify of a DataBatch, without building a WireReading array per reading
 * (the uplink encodes a 1000-reading batch many times a second). Keep one per uplink:
 * it remembers each sensor's `["sensor",` prefix.
 */
export class BatchEncoder {
  private readonly head: string;
  private readonly headWide: boolean;
  /** `["sensor",` of each ASCII id seen (the only ones cached). */
  private readonly prefixes = new Map<string, string>();

  constructor(gatewayId: string) {
    this.head = `{"v":${BATCH_FORMAT_VERSION},"gw":${JSON.stringify(gatewayId)},"r":[`;
    this.headWide = !isAscii(this.head);
  }

  /** Encode rows; rows with seq <= replayedUpTo get the REPLAYED flag. */
  encode(rows: ReadingSource, replayedUpTo: number): Buffer {
    let text = this.head;
    // Ids are ASCII (the config's id patterns) and so is JSON of a number: the text is
    // written one byte per character unless a string value (or an id an old outbox
    // holds) is not, which spares Buffer.from a UTF-8 length scan of the whole text.
    let wide = this.headWide;
    // Readings of one sample tick share their timestamp: write its text once.
    let lastTs = Number.NaN;
    let tsText = '';
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
      if (typeof value === 'string' && !isAscii(json)) wide = true;
      const sensor = rows.sensor(i);
      let prefix = this.prefixes.get(sensor);
      if (prefix === undefined) {
        prefix = `[${JSON.stringify(sensor)},`;
        if (!isAscii(prefix)) wide = true;
        else if (this.prefixes.size < MAX_CACHED_SENSORS) this.prefixes.set(sensor, prefix);
      }
      const flags = rows.seq(i) <= replayedUpTo ? rows.flags(i) | ReadingFlag.REPLAYED : rows.flags(i);
      text += `${i === 0 ? '' : ','}${prefix}${tsText},${json},${qualityCode(rows.quality(i))},${flags}]`;
    }
    return Buffer.from(`${text}]}`, wide ? 'utf8' : 'latin1');
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
