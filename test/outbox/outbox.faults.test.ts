/** Outbox under faults: a full disk on commit (retried with backoff, drops counted, reported), and kill -9 of the writing process. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { VirtualClock } from '../../src/core/clock';
import { memoryLogger, silentLogger } from '../../src/core/logger';
import { reading } from '../../src/core/reading';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema } from '../../src/outbox/schema';
import { tempDir } from '../helpers/temp';

/**
 * An outbox (flushRows 1000, flushInterval 100 ms) on a database capped at its current size
 * (max_page_count = 1 clamps to it): any growth is SQLITE_FULL, as on a full disk.
 */
function fullDiskOutbox(t: { after(fn: () => void): void }) {
  const log = memoryLogger('info');
  const clock = new VirtualClock();
  let db: Database.Database | undefined;
  const ob = new Outbox({
    path: path.join(tempDir(t, 'fg-outbox-'), 'outbox.db'),
    config: outboxSchema.parse({ flushRows: 1000, flushInterval: '100ms' }),
    clock,
    log,
    openDatabase: (file) => (db = new Database(file)),
  });
  t.after(() => ob.close());
  assert.ok(db);
  db.pragma('max_page_count = 1');
  return { ob, db, log, clock };
}

test('a full disk keeps the batch in memory, counts and logs once, and commits it once space is back', (t) => {
  const { ob, db, log, clock } = fullDiskOutbox(t);
  for (let i = 0; i < 999; i++) ob.add(reading('s', i, i));
  assert.doesNotThrow(() => ob.add(reading('s', 999, 999)), 'the 1000th reading triggers a commit that fails');
  let st = ob.stats();
  assert.equal(st.commitErrors, 1);
  assert.equal(st.pending, 1000);
  assert.equal(st.depth, 0);
  clock.advance(100); // the retry timer fires, fails again
  assert.equal(ob.stats().commitErrors, 2);
  const errors = log.lines.filter((l) => l.level === 'error');
  assert.equal(errors.length, 1, 'logged once per failure episode');
  assert.equal(errors[0].code, 'SQLITE_FULL');

  db.pragma('max_page_count = 1000000');
  clock.advance(200); // retries back off: 100 ms, then 200 ms
  st = ob.stats();
  assert.equal(st.pending, 0);
  assert.equal(st.depth, 1000);
  const rows = ob.peekReadings(0, 2000);
  assert.deepEqual(
    [rows[0].seq, rows[0].ts, rows[999].seq, rows[999].ts],
    [1, 0, 1000, 999],
  );
  assert.ok(log.lines.some((l) => l.msg === 'outbox commits recovered'));
});

test('a full disk: retries back off, add() does not retry per reading, drops are counted, the problem is reported, then it recovers', (t) => {
  const { ob, db, log, clock } = fullDiskOutbox(t);
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

for (const synchronous of ['normal', 'full'] as const) {
  test(`kill -9 after commit (synchronous=${synchronous}): reopening finds every committed row`, async (t) => {
    const file = path.join(tempDir(t, 'fg-outbox-'), 'outbox.db');
    const fixture = path.join(__dirname, 'fixtures', 'commit-then-hang.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, file, '1234', synchronous], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGKILL'));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    assert.equal(line, 'committed 1234');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const ob = new Outbox({ path: file, config: outboxSchema.parse({}), clock: new VirtualClock(), log: silentLogger });
    t.after(() => ob.close());
    const rows = ob.peekReadings(0, 5000);
    assert.equal(rows.length, 1234, 'committed rows survive; the 5 buffered after the last commit are gone');
    assert.deepEqual(
      rows.map((r) => r.seq),
      Array.from({ length: 1234 }, (_, i) => i + 1),
    );
    assert.equal(rows[1233].sensor, 's0'); // 1233 % 3 = 0
  });
}
