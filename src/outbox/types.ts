import type { Quality } from '../core/reading';

/** Where a non-telemetry message sits in the eviction order (both outlive telemetry). */
export type MessagePriority = 'event' | 'result';

/** MQTT 5 properties an outbox message may carry (dropped when the broker speaks 3.1.1). */
export interface MessageProperties {
  contentType?: string;
  correlationData?: Buffer;
  messageExpiryInterval?: number;
  userProperties?: Record<string, string>;
}

/** A non-telemetry message (event, alarm, command result) for an absolute topic. */
export interface OutboxMessage {
  topic: string;
  payload: string | Buffer;
  priority: MessagePriority;
  retain?: boolean;
  qos?: 0 | 1;
  properties?: MessageProperties;
}

/** A committed reading as the uplink reads it back, with its global sequence number. */
export interface StoredReading {
  seq: number;
  sensor: string;
  ts: number;
  value: number | string;
  quality: Quality;
  flags: number;
}

/**
 * Committed readings read through accessors (i = 0 … length-1, oldest first), for code
 * that walks a batch once and does not need an object per reading (the uplink's encoder).
 */
export interface ReadingSource {
  readonly length: number;
  seq(i: number): number;
  sensor(i: number): string;
  /**
   * A small non-negative integer that stands for sensor(i): the same sensor has the same
   * key in every source with the same `keySpace` (an outbox's interned ids). Absent where
   * there is none.
   */
  sensorKey?(i: number): number;
  readonly keySpace?: object;
  ts(i: number): number;
  value(i: number): number | string;
  quality(i: number): Quality;
  flags(i: number): number;
}

/** A committed message as the uplink reads it back. */
export interface StoredMessage {
  seq: number;
  topic: string;
  payload: Buffer;
  priority: MessagePriority;
  retain: boolean;
  qos: 0 | 1;
  properties?: MessageProperties;
  /** When it was committed (epoch ms). */
  ts: number;
}

/** A row the broker refused (PUBACK reason code >= 0x80), kept for inspection. */
export interface RejectedRow {
  seq: number;
  kind: 'reading' | 'message';
  /** The reading or message as JSON text. */
  body: string;
  reason: string;
  at: number;
}

export interface OutboxStats {
  /** Committed readings waiting for the uplink. */
  depth: number;
  /** Committed events/results waiting for the uplink. */
  messages: number;
  /** Sample time of the oldest waiting reading or commit time of the oldest message; null when empty. */
  oldestTs: number | null;
  /** Rows evicted since the database was created (persistent). */
  evicted: number;
  /** Rows the broker refused and that were set aside (persistent). */
  rejected: number;
  /** Size on disk: the database file's pages plus its WAL, bytes (maxMB bounds this). */
  bytes: number;
  /** Readings and messages accepted but not yet committed (memory). */
  pending: number;
  /** Failed commits (full disk, I/O errors) since start. */
  commitErrors: number;
  /** Readings dropped from memory, never stored, because commits failed (disk full); also counted in evicted. */
  unstored: number;
  /** Highest committed sequence number. */
  lastSeq: number;
}
