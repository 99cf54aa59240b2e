/** Outbox under faults: a full disk on commit, and kill -9 of the writing process. */
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


test('a full disk keeps the batch in memory, counts and logs once, and commits it once space is back', (t) => {
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
  db.pragma('max_page_count = 1'); // clamps to the current size: any growth is SQLITE_FULL
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
