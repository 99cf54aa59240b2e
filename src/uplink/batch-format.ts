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
import type { StoredReading } from '../outbox/types';

export const BATCH_FORMAT_VERSION = 1;

export type WireReading = [sensor: string, ts: number, value: number | string | null, q: number, flags: number];

export interface DataBatch {
  v: typeof BATCH_FORMAT_VERSION;
  gw: string;
  r: WireReading[];
}

/** Encode rows; rows with seq <= replayedUpTo get the REPLAYED flag. */
export function encodeBatch(gatewayId: string, rows: readonly StoredReading[], replayedUpTo: number): Buffer {
  const r: WireReading[] = rows.map((row) => [
    row.sensor,
    row.ts,
    typeof row.value === 'number' && !Number.isFinite(row.value) ? null : row.value,
    qualityCode(row.quality),
    row.seq <= replayedUpTo ? row.flags | ReadingFlag.REPLAYED : row.flags,
  ]);
  const batch: DataBatch = { v: BATCH_FORMAT_VERSION, gw: gatewayId, r };
  return Buffer.from(JSON.stringify(batch));
}

/** Parse a data message (for tests and cloud-side tools); throws on anything else. */
export function decodeBatch(payload: Buffer | string): DataBatch {
  const parsed = JSON.parse(payload.toString()) as Partial<DataBatch>;
  if (parsed.v !== BATCH_FORMAT_VERSION || typeof parsed.gw !== 'string' || !Array.isArray(parsed.r)) {
    throw new Error('not a fieldgate data batch (v1)');
  }
  return parsed as DataBatch;
}
