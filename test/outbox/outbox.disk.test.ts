/**
 * The outbox on disk: maxMB bounds the database file and its WAL together, space comes
 * back after a drain, and a full disk (a SQLite page cap) backs off, counts, reports and recovers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { VirtualClock } from '../../src/core/clock';
import { memoryLogger, silentLogger } from '../../src/core/logger';
import { reading } from '../../src/core/reading';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema, type OutboxConfig } from '../../src/outbox/schema';
import { tempDir } from '../helpers/temp';

const MiB = 1024 * 1024;

function open(t: { after(fn: () => void): void }, config: Partial<OutboxConfig>) {
  const file = path.join(tempDir(t, 'fg-outbox-'), 'outbox.db');
  const clock = new VirtualClock();
  const ob = new Outbox({ path: file, config: outboxSchema.parse(config), clock, log: silentLogger });
  t.after(() => ob.close());
  return { ob, file, clock };
}

/** Bytes the outbox takes on disk: the database file plus its WAL (and shm, a fixed 32 KiB index). */
function onDisk(file: string): { db: number; wal: number } {
  const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
  return { db: size(file), wal: size(`${file}-wal`) };
}

test('maxMB bounds the database file and its WAL together', (t) => {
  const { ob, file } = open(t, { maxMB: 2, flushRows: 1000 });
  let peak = 0;
  // 300 000 readings of ~30 bytes are ~9 MB: far past the 2 MiB bound, so eviction runs all along.
  for (let i = 0; i < 300_000; i++) {
    ob.add(reading(`s${i % 50}`, 1_700_000_000_000 + i, i * 0.5));
    if (i % 1000 === 999) {
      const d = onDisk(file);
      peak = Math.max(peak, d.db + d.wal);
    }
  }
  ob.flush();
  assert.ok(ob.stats().evicted > 0, 'eviction ran');
  assert.ok(peak <= 2 * MiB, `database + WAL peaked at ${peak} bytes, over maxMB (${2 * MiB})`);
  assert.ok(ob.stats().bytes <= 2 * MiB, 'stats().bytes counts what is on disk');
});

test('after a drain the space comes back: database and WAL shrink', (t) => {
  const { ob, file } = open(t, { flushRows: 1000 });
  for (let i = 0; i < 200_000; i++) ob.add(reading(`s${i % 50}`, 1_700_000_000_000 + i, i));
  ob.flush();
  const full = onDisk(file);
  assert.ok(full.db + full.wal > 4 * MiB, `200 000 readings take more than 4 MiB (${full.db + full.wal})`);
  // Acknowledge in batches of 500, as the uplink does.
  for (let seq = 1; seq <= 200_000; seq += 500) ob.ackReadings(seq, seq + 499);
  assert.equal(ob.stats().depth, 0);
  const drained = onDisk(file);
  assert.ok(drained.db + drained.wal < 256 * 1024, `after the drain: db ${drained.db} + wal ${drained.wal} bytes, expected < 256 KiB`);
});

test('a full disk: retries back off, add() does not retry per reading, drops are counted, the problem is reported, then it recovers', (t) => {
  const log = memoryLogger('info');
  const clock = new VirtualClock();
  let db: Database.Database | undefined;
  const ob = new Outbox({
    path: path.join(tempDir(t, 'fg-outbox-'), 'outbox.db'),
    config: outboxSchema.parse({ flushRows: 1000, flushInterval: 100 }),
    clock,
    log,
    openDatabase: (file) => (db = new Database(file)),
  });
  t.after(() => ob.close());
  assert.ok(db);
  db.pragma('max_page_count = 1'); // a page cap: any growth is SQLITE_FULL, like a full disk
  for (let i = 0; i < 1000; i++) ob.add(reading('s', i, i)); // the 1000th add commits, and fails
  assert.equal(ob.stats().commitErrors, 1);
  for (let i = 1000; i < 5000; i++) ob.add(reading('s', i, i));
  assert.equal(ob.stats().commitErrors, 1, 'no commit per add while the disk is full');
  // Retries after 100, 200, 400 ms (doubling from flushInterval).
  clock.advance(100);
  assert.equal(ob.stats().commitErrors, 2);
  clock.advance(199);
  assert.equal(ob.stats().commitErrors, 2);
  clock.advance(1);
  assert.equal(ob.stats().commitErrors, 3);
  clock.advance(400);
  assert.equal(ob.stats().commitErrors, 4);
  assert.equal(log.lines.filter((l) => l.level === 'error').length, 1, 'one log line for the episode');
  const [problem] = ob.problems();
  assert.match(problem, /^outbox cannot store readings \(SQLITE_FULL: .*\): 5000 held in memory, 0 dropped; next try in 800 ms$/);
  // The memory bound is max(10 000, 20 × flushRows) = 20 000: 20 005 readings in all drop the 5 oldest.
  for (let i = 5000; i < 20_005; i++) ob.add(reading('s', i, i));
  const st = ob.stats();
  assert.equal(st.pending, 20_000);
  assert.equal(st.unstored, 5);
  assert.equal(st.evicted, 5);
  assert.match(ob.problems()[0], /: 20000 held in memory, 5 dropped;/);
  db.pragma('max_page_count = 1000000'); // space is back
  clock.advance(800);
  assert.equal(ob.stats().pending, 0);
  assert.equal(ob.stats().depth, 20_000);
  assert.deepEqual(ob.problems(), []);
  assert.ok(log.lines.some((l) => l.msg === 'outbox commits recovered'));
  // Recovered: the next full batch commits at once again.
  for (let i = 0; i < 1000; i++) ob.add(reading('t', i, i));
  assert.equal(ob.stats().depth, 21_000);
});
