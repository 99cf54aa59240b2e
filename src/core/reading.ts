/**
 * The one data type that flows from drivers to the cloud.
 *
 * A Reading is created by a driver, passed synchronously through the sensor's
 * pipeline (stages may return a changed copy or mutate fields they own), fanned out
 * by the hub, and stored by the outbox. Timestamps are UTC epoch milliseconds.
 */

export type Quality = 'good' | 'uncertain' | 'bad';

/** Bit flags carried with a reading to the cloud. */
export const ReadingFlag = {
  /** Published from a backlog after an uplink outage rather than live. */
  REPLAYED: 1,
  /** Taken while the system clock was not yet synchronised (ts may be wrong). */
  CLOCK_UNSYNCED: 2,
} as const;

export type ReadingValue = number | string;

export interface Reading {
  /** Sensor id, unique across the gateway (e.g. "boiler.temp"). */
  sensor: string;
  /** UTC epoch milliseconds when the value was sampled. */
  ts: number;
  value: ReadingValue;
  quality: Quality;
  /** ReadingFlag bits; 0 for a plain live reading. */
  flags: number;
}

export function reading(sensor: string, ts: number, value: ReadingValue, quality: Quality = 'good', flags = 0): Reading {
  return { sensor, ts, value, quality, flags };
}

/** True when the value is a finite number (not NaN, not ±Infinity, not a string). */
export function isFiniteNumber(v: ReadingValue): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
