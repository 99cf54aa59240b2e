/**
 * The outbox's on-disk layout. Readings are stored compactly (about 30 bytes each):
 * the sensor id is interned in `sensors`, `seq` is the rowid, quality and flags share
 * one integer, string values go to the nullable `text` column. `meta` holds the
 * persistent counters and the last sequence number handed out, so sequence numbers
 * never repeat even after the tables have been emptied.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS readings (
  seq INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, text TEXT, qf INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, priority INTEGER NOT NULL,
  retain INTEGER NOT NULL, qos INTEGER NOT NULL, properties TEXT, ts INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rejected (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
`;

export type MetaKey = 'lastSeq' | 'evicted' | 'rejected' | 'schema';

export interface ReadingRow {
  seq: number;
  sensor: number;
  ts: number;
  value: number | null;
  text: string | null;
  qf: number;
}

/** A reading row in raw mode (one array per row, no property names): the uplink's hot path. */
export type ReadingTuple = [seq: number, sensor: number, ts: number, value: number | null, text: string | null, qf: number];

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
    insertReading: db.prepare<[number, number, number, number | null, string | null, number]>(
      'INSERT INTO readings (seq, sensor, ts, value, text, qf) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertMessage: db.prepare<[number, string, Buffer, number, number, number, string | null, number]>(
      'INSERT INTO messages (seq, topic, payload, priority, retain, qos, properties, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    peekReadingTuples: db
      .prepare<[number, number], ReadingTuple>('SELECT seq, sensor, ts, value, text, qf FROM readings WHERE seq > ? ORDER BY seq LIMIT ?')
      .raw(true),
    peekMessages: db.prepare<[number, number], MessageRow>(
      'SELECT seq, topic, payload, priority, retain, qos, properties, ts FROM messages WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    getReading: db.prepare<[number], ReadingRow>('SELECT seq, sensor, ts, value, text, qf FROM readings WHERE seq = ?'),
    getMessage: db.prepare<[number], MessageRow>('SELECT seq, topic, payload, priority, retain, qos, properties, ts FROM messages WHERE seq = ?'),
    deleteReadingRange: db.prepare<[number, number]>('DELETE FROM readings WHERE seq BETWEEN ? AND ?'),
    deleteReading: db.prepare<[number]>('DELETE FROM readings WHERE seq = ?'),
    deleteMessage: db.prepare<[number]>('DELETE FROM messages WHERE seq = ?'),
    countReadings: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM readings'),
    countMessages: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM messages'),
    maxSeqs: db.prepare<[], { r: number | null; m: number | null; x: number | null }>(
      'SELECT (SELECT max(seq) FROM readings) AS r, (SELECT max(seq) FROM messages) AS m, (SELECT max(seq) FROM rejected) AS x',
    ),
    oldestReadingTs: db.prepare<[], { ts: number }>('SELECT ts FROM readings ORDER BY seq LIMIT 1'),
    oldestMessageTs: db.prepare<[], { ts: number }>('SELECT ts FROM messages ORDER BY seq LIMIT 1'),
    /** Sequence number of the n-th oldest reading (0-based), to evict everything up to it. */
    nthReadingSeq: db.prepare<[number], { seq: number }>('SELECT seq FROM readings ORDER BY seq LIMIT 1 OFFSET ?'),
    nthMessageSeq: db.prepare<[number], { seq: number }>('SELECT seq FROM messages ORDER BY seq LIMIT 1 OFFSET ?'),
    deleteReadingsUpTo: db.prepare<[number]>('DELETE FROM readings WHERE seq <= ?'),
    deleteMessagesUpTo: db.prepare<[number]>('DELETE FROM messages WHERE seq <= ?'),
    insertRejected: db.prepare<[number, string, string, string, number]>('INSERT OR REPLACE INTO rejected (seq, kind, body, reason, at) VALUES (?, ?, ?, ?, ?)'),
    listRejected: db.prepare<[number], { seq: number; kind: string; body: string; reason: string; at: number }>(
      'SELECT seq, kind, body, reason, at FROM rejected ORDER BY seq DESC LIMIT ?',
    ),
    trimRejected: db.prepare<[number]>('DELETE FROM rejected WHERE seq < (SELECT seq FROM rejected ORDER BY seq DESC LIMIT 1 OFFSET ?)'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
