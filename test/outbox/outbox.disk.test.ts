/**
 * The outbox on disk: maxMB bounds the database file and its WAL together, and space comes
 * back after a drain. (A full disk is in outbox.faults.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
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

test('a live outbox that empties after each ack hands its free pages back at most once a minute; a drained backlog at once', (t) => {
  const { ob, file, clock } = open(t, { flushRows: 1000 });
  const fill = (n: number) => {
    const from = ob.stats().lastSeq + 1;
    for (let i = 0; i < n; i++) ob.add(reading(`s${i % 50}`, 1_700_000_000_000 + i, i));
    ob.flush();
    for (let seq = from; seq < from + n; seq += 500) ob.ackReadings(seq, seq + 499);
    assert.equal(ob.stats().depth, 0);
    const d = onDisk(file);
    return d.db + d.wal;
  };
  // 10 000 readings are ~290 KB: more than 64 free pages (256 KiB) once acknowledged, and
  // fewer than the 50 000 of a backlog that comes back at once.
  const first = fill(10_000);
  assert.ok(first < 128 * 1024, `the first time it empties, the pages come back (${first} bytes)`);
  clock.advance(30_000);
  const again = fill(10_000);
  assert.ok(again > 256 * 1024, `30 s later they stay for the next commits to reuse (${again} bytes)`);
  clock.advance(30_000);
  const minute = fill(10_000);
  assert.ok(minute < 128 * 1024, `a minute after the last time they come back again (${minute} bytes)`);
  // A drain of 200 000 readings (~6 MB, a backlog) comes back at once, 1 s after the last time.
  clock.advance(1_000);
  const drained = fill(200_000);
  assert.ok(drained < 256 * 1024, `after a drain: ${drained} bytes, expected < 256 KiB`);
});
