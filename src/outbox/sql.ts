/**
 * The outbox's on-disk layout. Readings are stored in chunks (chunk.ts: the readings of a
 * commit in one row, about 28 bytes each); the sensor id is interned in `sensors`. Every
 * row, chunked reading or message, has a sequence number from one counter; a chunk's
 * `first`/`last` are the seqs of its first and last reading and chunks never overlap, so
 * `first` orders them. `meta` holds the persistent counters and the last sequence number
 * handed out, so sequence numbers never repeat even after the tables have been emptied.
 * Schema 1 kept one row per reading in `readings`; opening such a file moves them into
 * chunks (outbox.ts).
 */
import type Database from 'better-sqlite3';
import type { ChunkRow } from './chunk';

export const SCHEMA_VERSION = 2;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunks (
  first INTEGER PRIMARY KEY, last INTEGER NOT NULL, n INTEGER NOT NULL, ts INTEGER NOT NULL, data BLOB NOT NULL, texts TEXT);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, priority INTEGER NOT NULL,
  retain INTEGER NOT NULL, qos INTEGER NOT NULL, properties TEXT, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
`;

export type MetaKey = 'lastSeq' | 'evicted' | 'rejected' | 'schema';

export interface MessageRow {
  seq: number;
  topic: string;
  payload: Buffer;
  priority: number;
  retain: number;
  qos: number;
  properties: string | null;
  ts: number;
}

/** Prepared statements, created once per connection. */
export function prepareStatements(db: Database.Database) {
  db.exec(DDL);
  return {
    getMeta: db.prepare<[MetaKey], { value: number }>('SELECT value FROM meta WHERE name = ?'),
    setMeta: db.prepare<[MetaKey, number]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    addMeta: db.prepare<[MetaKey, number]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value'),
    allSensors: db.prepare<[], { id: number; name: string }>('SELECT id, name FROM sensors'),
    insertSensor: db.prepare<[string]>('INSERT INTO sensors (name) VALUES (?)'),
    insertChunk: db.prepare<[number, number, number, number, Buffer, string | null]>('INSERT INTO chunks (first, last, n, ts, data, texts) VALUES (?, ?, ?, ?, ?, ?)'),
    updateChunk: db.prepare<[number, number, number, number, Buffer, string | null, number]>(
      'UPDATE chunks SET first = ?, last = ?, n = ?, ts = ?, data = ?, texts = ? WHERE first = ?',
    ),
    deleteChunk: db.prepare<[number]>('DELETE FROM chunks WHERE first = ?'),
    /** The chunk that holds seq, if any holds it (the last one starting at or before it). */
    chunkAt: db.prepare<[number], ChunkRow>('SELECT first, last, n, data, texts FROM chunks WHERE first <= ? ORDER BY first DESC LIMIT 1'),
    /** Chunks from the one that may hold seq on, oldest first (iterate, stop when enough). */
    chunksFrom: db.prepare<[number, number], ChunkRow>(
      'SELECT first, last, n, data, texts FROM chunks WHERE first >= coalesce((SELECT max(first) FROM chunks WHERE first <= ?), 0) AND last > ? ORDER BY first',
    ),
    /** Readings in the chunks that lie wholly within from..to. */
    readingsWithin: db.prepare<[number, number], { n: number }>('SELECT coalesce(sum(n), 0) AS n FROM chunks WHERE first >= ? AND last <= ?'),
    deleteChunksWithin: db.prepare<[number, number]>('DELETE FROM chunks WHERE first >= ? AND last <= ?'),
    /** Chunk sizes oldest first, to find where the n oldest readings end (eviction). */
    chunkSizes: db.prepare<[], { first: number; last: number; n: number }>('SELECT first, last, n FROM chunks ORDER BY first'),
    insertMessage: db.prepare<[number, string, Buffer, number, number, number, string | null, number]>(
      'INSERT INTO messages (seq, topic, payload, priority, retain, qos, properties, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    peekMessages: db.prepare<[number, number], MessageRow>(
      'SELECT seq, topic, payload, priority, retain, qos, properties, ts FROM messages WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    getMessage: db.prepare<[number], MessageRow>('SELECT seq, topic, payload, priority, retain, qos, properties, ts FROM messages WHERE seq = ?'),
    deleteMessage: db.prepare<[number]>('DELETE FROM messages WHERE seq = ?'),
    countReadings: db.prepare<[], { n: number }>('SELECT coalesce(sum(n), 0) AS n FROM chunks'),
    countMessages: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM messages'),
    maxSeqs: db.prepare<[], { r: number | null; m: number | null; x: number | null }>(
      'SELECT (SELECT max(last) FROM chunks) AS r, (SELECT max(seq) FROM messages) AS m, (SELECT max(seq) FROM rejected) AS x',
    ),
    oldestReadingTs: db.prepare<[], { ts: number }>('SELECT ts FROM chunks ORDER BY first LIMIT 1'),
    oldestMessageTs: db.prepare<[], { ts: number }>('SELECT ts FROM messages ORDER BY seq LIMIT 1'),
    nthMessageSeq: db.prepare<[number], { seq: number }>('SELECT seq FROM messages ORDER BY seq LIMIT 1 OFFSET ?'),
    deleteMessagesUpTo: db.prepare<[number]>('DELETE FROM messages WHERE seq <= ?'),
    insertRejected: db.prepare<[number, string, string, string, number]>('INSERT OR REPLACE INTO rejected (seq, kind, body, reason, at) VALUES (?, ?, ?, ?, ?)'),
    listRejected: db.prepare<[number], { seq: number; kind: string; body: string; reason: string; at: number }>(
      'SELECT seq, kind, body, reason, at FROM rejected ORDER BY seq DESC LIMIT ?',
    ),
    trimRejected: db.prepare<[number]>('DELETE FROM rejected WHERE seq < (SELECT seq FROM rejected ORDER BY seq DESC LIMIT 1 OFFSET ?)'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
