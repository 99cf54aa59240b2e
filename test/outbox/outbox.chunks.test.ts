/**
 * Readings are stored in chunks (one row per commit, src/outbox/chunk.ts). These cases
 * remove and read readings across and inside chunk boundaries, where a row-per-reading
 * store had nothing to get wrong, and open a file written with the old layout (schema 1).
 * Expected seqs are counted by hand from the order of adds and flushes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { reading, ReadingFlag } from '../../src/core/reading';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema, type OutboxConfig } from '../../src/outbox/schema';
import { tempDir } from '../helpers/temp';

function open(file: string, config: Partial<OutboxConfig> = {}) {
  return new Outbox({ path: file, config: { ...outboxSchema.parse({}), ...config }, clock: new VirtualClock(), log: silentLogger });
}

/** Three commits of 4 readings each: chunks 1-4, 5-8, 9-12; reading seq k has ts 1000+k, value k/2. */
function threeChunks(t: { after(fn: () => void): void }): Outbox {
  const ob = open(path.join(tempDir(t, 'fg-chunks-'), 'outbox.db'));
  t.after(() => ob.close());
  for (let c = 0; c < 3; c++) {
    for (let i = 1; i <= 4; i++) {
      const seq = c * 4 + i;
      ob.add(reading(`s${i}`, 1000 + seq, seq / 2));
    }
    ob.flush();
  }
  return ob;
}

const seqs = (ob: Outbox, after = 0, limit = 100) => ob.peekReadings(after, limit).map((r) => r.seq);

test('a peek starts inside a chunk and runs across chunks, up to the limit', (t) => {
  const ob = threeChunks(t);
  assert.deepEqual(seqs(ob, 2, 5), [3, 4, 5, 6, 7]);
  assert.deepEqual(seqs(ob, 8, 100), [9, 10, 11, 12]);
  assert.deepEqual(seqs(ob, 12, 100), []);
  assert.deepEqual(ob.peekReadings(5, 1), [{ seq: 6, sensor: 's2', ts: 1006, value: 3, quality: 'good', flags: 0 }]);
});

test('an ack range that starts and ends inside chunks removes exactly that range', (t) => {
  const ob = threeChunks(t);
  // 3..10: the tail of chunk 1, all of chunk 2, the head of chunk 3.
  assert.equal(ob.ackReadings(3, 10), 8);
  assert.deepEqual(seqs(ob), [1, 2, 11, 12]);
  assert.equal(ob.stats().depth, 4);
  assert.equal(ob.stats().oldestTs, 1001);
  // Inside one chunk, leaving both ends.
  assert.equal(ob.ackReadings(12, 12), 1);
  assert.equal(ob.ackReadings(1, 1), 1);
  assert.deepEqual(seqs(ob), [2, 11]);
  assert.equal(ob.stats().oldestTs, 1002, 'the oldest reading after its chunk lost its first one');
  // Again, and past everything stored: nothing more.
  assert.equal(ob.ackReadings(3, 10), 0);
  assert.equal(ob.ackReadings(1, 100), 2);
  assert.equal(ob.stats().depth, 0);
  assert.equal(ob.stats().oldestTs, null);
});

test('acknowledged and refused readings picked one by one leave their neighbours intact', (t) => {
  const ob = threeChunks(t);
  assert.equal(ob.ackReadingSeqs([2, 7, 9, 12, 40]), 4, 'seq 40 was never stored');
  assert.equal(ob.setAside([5, 6, 11], 'PUBACK 0x97: quota exceeded'), 3);
  assert.deepEqual(seqs(ob), [1, 3, 4, 8, 10]);
  assert.deepEqual(ob.peekReadings(7, 1), [{ seq: 8, sensor: 's4', ts: 1008, value: 4, quality: 'good', flags: 0 }]);
  const rejected = ob.rejected(10).map((r) => ({ seq: r.seq, body: JSON.parse(r.body) as unknown }));
  assert.deepEqual(rejected, [
    { seq: 11, body: { seq: 11, sensor: 's3', ts: 1011, value: 5.5, quality: 'good', flags: 0 } },
    { seq: 6, body: { seq: 6, sensor: 's2', ts: 1006, value: 3, quality: 'good', flags: 0 } },
    { seq: 5, body: { seq: 5, sensor: 's1', ts: 1005, value: 2.5, quality: 'good', flags: 0 } },
  ]);
  assert.equal(ob.stats().depth, 5);
  assert.equal(ob.stats().rejected, 3);
});

test('messages committed between readings take seqs inside a chunk; text, NaN and flags survive', (t) => {
  const file = path.join(tempDir(t, 'fg-chunks-'), 'outbox.db');
  let ob = open(file, { flushRows: 100 });
  ob.add(reading('a', 1, 'OPEN', 'uncertain', ReadingFlag.CLOCK_UNSYNCED)); // buffered
  ob.addMessage({ topic: 'fieldgate/gw/events', payload: 'x', priority: 'event' }); // commits seq 1 (a) and 2 (message)
  ob.add(reading('b', 2, Number.NaN, 'bad'));
  ob.add(reading('c', 3, Number.POSITIVE_INFINITY));
  ob.addMessage({ topic: 'fieldgate/gw/events', payload: 'y', priority: 'event' }); // 3 (b), 4 (c), 5 (message)
  ob.add(reading('d', 4, 'CLOSED'));
  ob.flush(); // 6 (d)
  ob.close();
  ob = open(file);
  t.after(() => ob.close());
  assert.deepEqual(ob.peekReadings(0, 10), [
    { seq: 1, sensor: 'a', ts: 1, value: 'OPEN', quality: 'uncertain', flags: ReadingFlag.CLOCK_UNSYNCED },
    { seq: 3, sensor: 'b', ts: 2, value: Number.NaN, quality: 'bad', flags: 0 },
    { seq: 4, sensor: 'c', ts: 3, value: Number.POSITIVE_INFINITY, quality: 'good', flags: 0 },
    { seq: 6, sensor: 'd', ts: 4, value: 'CLOSED', quality: 'good', flags: 0 },
  ]);
  assert.deepEqual(ob.peekMessages(0, 10).map((m) => m.seq), [2, 5]);
  // The range 2..5 holds two readings and a message; acking readings leaves the messages.
  assert.equal(ob.ackReadings(2, 5), 2);
  assert.deepEqual(seqs(ob), [1, 6]);
  assert.deepEqual(ob.peekMessages(0, 10).map((m) => m.seq), [2, 5]);
  assert.deepEqual(ob.peekReadings(0, 10)[1], { seq: 6, sensor: 'd', ts: 4, value: 'CLOSED', quality: 'good', flags: 0 }, 'a text value after a rewrite');
});

test('a commit larger than a chunk is split, and a peek crosses the split', (t) => {
  const ob = open(path.join(tempDir(t, 'fg-chunks-'), 'outbox.db'), { flushRows: 5000 });
  t.after(() => ob.close());
  for (let i = 1; i <= 2500; i++) ob.add(reading('s', i, i));
  ob.flush();
  assert.equal(ob.stats().depth, 2500);
  // Chunks hold 1024: 1..1024, 1025..2048, 2049..2500.
  assert.deepEqual(seqs(ob, 1020, 10), [1021, 1022, 1023, 1024, 1025, 1026, 1027, 1028, 1029, 1030]);
  assert.deepEqual(seqs(ob, 2045, 5), [2046, 2047, 2048, 2049, 2050]);
  assert.equal(ob.peekReadings(0, 3000).length, 2500);
  assert.equal(ob.ackReadings(1000, 2100), 1101);
  assert.equal(ob.stats().depth, 1399);
  assert.deepEqual(seqs(ob, 997, 4), [998, 999, 2101, 2102]);
});

test('eviction removes exactly the oldest readings, splitting the chunk it ends in', (t) => {
  const ob = open(path.join(tempDir(t, 'fg-chunks-'), 'outbox.db'), { maxRows: 10, flushRows: 4 });
  t.after(() => ob.close());
  // Commits of 4: 1-4, 5-8, 9-12 (12 > 10: keep floor(0.99 × 10) = 9 → evict 3: seqs 1-3).
  for (let i = 1; i <= 12; i++) ob.add(reading('s', i, i));
  assert.equal(ob.stats().evicted, 3);
  assert.deepEqual(seqs(ob), [4, 5, 6, 7, 8, 9, 10, 11, 12]);
  // 13-16 makes 13 > 10: evict 4 more (4-7), ending inside the chunk 5-8.
  for (let i = 13; i <= 16; i++) ob.add(reading('s', i, i));
  assert.equal(ob.stats().evicted, 7);
  assert.deepEqual(seqs(ob), [8, 9, 10, 11, 12, 13, 14, 15, 16]);
  assert.equal(ob.stats().oldestTs, 8);
});

test('a schema-1 file (one row per reading) opens with every reading, in order, with its seq', (t) => {
  const file = path.join(tempDir(t, 'fg-chunks-'), 'outbox.db');
  const db = new Database(file);
  db.exec(`
CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE readings (seq INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, ts INTEGER NOT NULL, value REAL, text TEXT, qf INTEGER NOT NULL);
CREATE TABLE messages (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL, payload BLOB NOT NULL, priority INTEGER NOT NULL,
  retain INTEGER NOT NULL, qos INTEGER NOT NULL, properties TEXT, ts INTEGER NOT NULL);
CREATE TABLE rejected (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
INSERT INTO meta VALUES ('schema', 1), ('lastSeq', 3003), ('evicted', 7);
INSERT INTO sensors VALUES (1, 'boiler.temp'), (2, 'door');
INSERT INTO messages VALUES (2, 'fieldgate/gw/events', x'7b7d', 0, 0, 1, NULL, 5);`);
  const ins = db.prepare('INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?)');
  // seq 1: text with qf uncertain|CLOCK_UNSYNCED (1 | 2<<2 = 9); seq 2 is the message;
  // 3..3002: 3000 numbers; 3003: NULL value (how schema 1 stored NaN).
  ins.run(1, 2, 100, null, 'OPEN', 9);
  db.transaction(() => {
    for (let seq = 3; seq <= 3002; seq++) ins.run(seq, 1, 100 + seq, seq * 0.25, null, 0);
  })();
  ins.run(3003, 1, 4000, null, null, 2);
  db.close();

  const ob = open(file);
  t.after(() => ob.close());
  const all = ob.peekReadings(0, 10_000);
  assert.equal(all.length, 3002);
  assert.deepEqual(all[0], { seq: 1, sensor: 'door', ts: 100, value: 'OPEN', quality: 'uncertain', flags: ReadingFlag.CLOCK_UNSYNCED });
  assert.deepEqual(all[1], { seq: 3, sensor: 'boiler.temp', ts: 103, value: 0.75, quality: 'good', flags: 0 });
  assert.deepEqual(all[3000], { seq: 3002, sensor: 'boiler.temp', ts: 3102, value: 750.5, quality: 'good', flags: 0 });
  assert.deepEqual(all[3001], { seq: 3003, sensor: 'boiler.temp', ts: 4000, value: Number.NaN, quality: 'bad', flags: 0 });
  assert.deepEqual(ob.peekMessages(0, 10).map((m) => m.seq), [2]);
  const st = ob.stats();
  assert.deepEqual([st.depth, st.messages, st.lastSeq, st.evicted, st.oldestTs], [3002, 1, 3003, 7, 5]); // oldest: the message, committed at 5
  ob.add(reading('door', 5000, 'CLOSED'));
  ob.flush();
  assert.deepEqual(ob.peekReadings(3003, 10).map((r) => [r.seq, r.sensor, r.value]), [[3004, 'door', 'CLOSED']], 'new seqs continue after the old ones');
  ob.close();
  const check = new Database(file, { readonly: true });
  t.after(() => check.close());
  assert.equal((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'readings'").get() as { n: number }).n, 0, 'the old table is gone');
  assert.equal((check.prepare("SELECT value FROM meta WHERE name = 'schema'").get() as { value: number }).value, 2);
});

test('a whole-chunk peek ends where a chunk ends, says when it left readings out, and never comes back empty', (t) => {
  // Chunks 1-4, 5-8, 9-12.
  const ob = threeChunks(t);
  const run = (after: number, limit: number) => {
    const b = ob.peekReadingBatch(after, limit, true);
    return { seqs: b.toStoredReadings().map((r) => r.seq), more: b.more };
  };
  assert.deepEqual(run(0, 6), { seqs: [1, 2, 3, 4], more: true }, 'chunk 5-8 does not fit after 1-4');
  assert.deepEqual(run(0, 8), { seqs: [1, 2, 3, 4, 5, 6, 7, 8], more: true });
  assert.deepEqual(run(0, 12), { seqs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], more: false });
  assert.deepEqual(run(0, 3), { seqs: [1, 2, 3], more: true }, 'a first chunk larger than the limit is cut, not skipped');
  assert.deepEqual(run(2, 4), { seqs: [3, 4], more: true }, 'the rest of a started chunk, then stop');
  assert.deepEqual(run(8, 100), { seqs: [9, 10, 11, 12], more: false });
  assert.deepEqual(ob.peekReadingBatch(0, 6).toStoredReadings().map((r) => r.seq), [1, 2, 3, 4, 5, 6], 'without wholeChunks the limit alone counts');
});

test('chunkReadings bounds the readings of one stored chunk', (t) => {
  const file = path.join(tempDir(t, 'fg-chunks-'), 'outbox.db');
  const ob = new Outbox({ path: file, config: { ...outboxSchema.parse({}), flushRows: 1000 }, clock: new VirtualClock(), log: silentLogger, chunkReadings: 3 });
  t.after(() => ob.close());
  for (let i = 1; i <= 7; i++) ob.add(reading('s', i, i));
  ob.flush();
  // One commit of 7 stored as 1-3, 4-6, 7.
  const b = ob.peekReadingBatch(0, 5, true);
  assert.deepEqual([b.toStoredReadings().map((r) => r.seq), b.more], [[1, 2, 3], true]);
  assert.equal(ob.ackReadings(1, 3), 3);
  assert.deepEqual(ob.peekReadingBatch(3, 6, true).toStoredReadings().map((r) => r.seq), [4, 5, 6, 7]);
});
