import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Arbiter } from '../../src/arbiter/arbiter';
import { jsonDepthExceeds, responseTopicProblem, topicMatches } from '../../src/commands/bounds';
import { CommandLog } from '../../src/commands/command-log';
import { CommandHandler, type CommandMeta, type CommandResult } from '../../src/commands/commands';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { actuator } from '../rules/helpers';

const T0 = Date.UTC(2026, 0, 1);
const cmd = (o: unknown) => Buffer.from(JSON.stringify(o));

function setup(opts: { commandLog?: CommandLog; maxRejectionsPerMinute?: number; cloudOverridesLocal?: boolean } = {}) {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  const arbiter = new Arbiter({
    actuators: [actuator({ id: 'pump', cloud: true, cloudOverridesLocal: opts.cloudOverridesLocal ?? false, maxWritesPerMinute: 1000 })],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    write: async (id, _t, value) => void writes.push(`${id}=${String(value)}`),
  });
  const published: { actuator: string; result: CommandResult; meta: CommandMeta }[] = [];
  const handler = new CommandHandler({
    arbiter,
    clock,
    log: silentLogger,
    commandLog: opts.commandLog,
    config: { maxRejectionsPerMinute: opts.maxRejectionsPerMinute ?? 1_000_000, maxPerMinute: 100_000 },
    responseTopics: { allowed: ['fg/gw1/#', 'app/replies/+'], commandFilter: 'fg/gw1/cmd/+' },
    publishResult: (a, result, meta) => published.push({ actuator: a, result, meta }),
  });
  arbiter.start();
  return { clock, writes, arbiter, handler, published };
}

test('JSON depth is measured without parsing; brackets inside strings do not count', () => {
  assert.equal(jsonDepthExceeds(Buffer.from('{"id":"a","value":[[1]]}'), 3), false); // depth 3
  assert.equal(jsonDepthExceeds(Buffer.from('{"id":"a","value":[[[1]]]}'), 3), true); // depth 4
  assert.equal(jsonDepthExceeds(Buffer.from('{"id":"[[[[[\\"[[[[","value":1}'), 1), false);
});

test('topic filters: + is one level, # the rest', () => {
  assert.equal(topicMatches('fg/gw1/#', 'fg/gw1/x/y'), true);
  assert.equal(topicMatches('fg/gw1/#', 'fg/gw2/x'), false);
  assert.equal(topicMatches('app/replies/+', 'app/replies/7'), true);
  assert.equal(topicMatches('app/replies/+', 'app/replies/7/8'), false);
  const policy = { allowed: ['fg/gw1/#'], commandFilter: 'fg/gw1/cmd/+' };
  assert.equal(responseTopicProblem('fg/gw1/replies', policy), undefined);
  assert.equal(responseTopicProblem('fg/gw1/cmd/pump', policy), 'response topic "fg/gw1/cmd/pump" is one of this gateway\'s command topics');
  assert.equal(responseTopicProblem('fg/gw1/#', policy), 'response topic "fg/gw1/#" contains a wildcard or NUL');
});

test('a value nested 8 000 levels deep (under 16 KiB) is answered with a clear error', () => {
  const { handler, published } = setup();
  const payload = `{"id":"deep","value":${'['.repeat(8000)}${']'.repeat(8000)}}`;
  assert.ok(payload.length < 16 * 1024);
  handler.handleCommand('pump', payload, {}, 'cloud');
  assert.deepEqual(published.map((p) => p.result.error), ['payload nested deeper than 4 levels']);
});

test('a 60 KB actuator name is dropped unanswered and counted, and nothing is remembered', () => {
  const log = new CommandLog({ clock: new VirtualClock(T0), log: silentLogger });
  const { handler, published } = setup({ commandLog: log });
  for (let i = 0; i < 173; i++) handler.handleCommand('x'.repeat(60_000), cmd({ id: `c${i}`, value: true }), {}, 'cloud');
  assert.equal(published.length, 0);
  assert.equal(handler.counts.dropped, 173);
  assert.equal(log.size, 0);
});

test('response topics outside the allowed filters are refused; the error goes to the default result topic', async () => {
  const { clock, handler, published, writes } = setup();
  await clock.advanceAsync(0);
  handler.handleCommand('pump', cmd({ id: 'r1', value: true }), { responseTopic: 'fg/gw1/data' }, 'cloud');
  handler.handleCommand('pump', cmd({ id: 'r2', value: true }), { responseTopic: 'fg/other-gw/cmd/valve' }, 'cloud');
  handler.handleCommand('pump', cmd({ id: 'r3', value: true }), { responseTopic: 'app/replies/9', correlationData: Buffer.alloc(2000) }, 'cloud');
  handler.handleCommand('pump', cmd({ id: 'r4', value: true }), { responseTopic: 'app/replies/9' }, 'cloud');
  await clock.advanceAsync(0);
  assert.deepEqual(
    published.map((p) => [p.meta.responseTopic, p.result.status, p.result.error]),
    [
      // fg/gw1/data is under the gateway's own base, so allowed by the default filter
      [undefined, 'rejected', 'response topic "fg/other-gw/cmd/valve" is not allowed (allowed: fg/gw1/#, app/replies/+)'],
      [undefined, 'rejected', 'correlation data too large (2000 bytes; limit 1024)'],
      ['fg/gw1/data', 'applied', undefined],
      ['app/replies/9', 'applied', undefined],
    ],
  );
  assert.deepEqual(writes, ['pump=true']);
});

test('exactly once holds for a real id after 5 000 junk ids; junk never enters the log', async () => {
  const log = new CommandLog({ clock: new VirtualClock(T0), log: silentLogger });
  const { clock, handler, published, writes } = setup({ commandLog: log });
  handler.handleCommand('pump', cmd({ id: 'real', value: true }), {}, 'cloud');
  await clock.advanceAsync(0);
  for (let i = 0; i < 5000; i++) {
    handler.handleCommand(`nosuch${i}`, cmd({ id: `junk${i}`, value: true }), {}, 'cloud');
    handler.handleCommand('pump', `{"id":"bad${i}", "value":`, {}, 'cloud');
  }
  assert.equal(log.size, 1, 'only the real id is remembered');
  handler.handleCommand('pump', cmd({ id: 'real', value: true }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.deepEqual(writes, ['pump=true']);
  assert.equal(published.at(-1)?.result.duplicate, true);
});

test('rejections beyond the answer budget are dropped and counted', () => {
  const { handler, published } = setup({ maxRejectionsPerMinute: 10 });
  for (let i = 0; i < 25; i++) handler.handleCommand('nosuch', cmd({ id: `j${i}`, value: 1 }), {}, 'cloud');
  assert.equal(published.length, 10);
  assert.equal(handler.counts.dropped, 15);
});

test('the command log writes in batches, not per command, and forgets ids after its window', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cmdlog-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'commands.db');
  const clock = new VirtualClock(T0);
  const log = new CommandLog({ file, clock, log: silentLogger, window: 3_600_000, flushMs: 200 });
  t.after(() => log.close());
  const onDisk = () => {
    const db = new Database(file, { readonly: true });
    try {
      return (db.prepare('SELECT count(*) AS n FROM command_ids').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  for (let i = 0; i < 10; i++) log.remember('pump', `c${i}`, { firstSeen: clock.now(), fingerprint: 'f', result: { id: `c${i}`, ok: true, status: 'applied', final: true, ts: clock.now() } });
  assert.equal(onDisk(), 0, 'nothing written per command');
  await clock.advanceAsync(200);
  assert.equal(onDisk(), 10, 'one batch after flushMs');
  await clock.advanceAsync(3_600_000 - 200);
  assert.equal(log.get('pump', 'c0')?.result.id, 'c0', 'still inside the window (exactly 1 h)');
  await clock.advanceAsync(1);
  assert.equal(log.get('pump', 'c0'), undefined, 'past the window');
});

test('a local hold outranks cloud commands; the cloud releases only its own hold; the CLI releases the local one', async () => {
  const { clock, handler, published, arbiter, writes } = setup();
  const local = handler.actuate('pump', true);
  await clock.advanceAsync(0);
  assert.deepEqual(await local, { id: `local-${T0}-1`, ok: true, status: 'applied', final: true, applied: true, owner: `local:local-${T0}-1`, ts: T0 });
  handler.handleCommand('pump', cmd({ id: 'c1', value: false }), {}, 'cloud');
  assert.equal(published.at(-1)?.result.error, `blocked by local hold local:local-${T0}-1`);
  handler.handleCommand('pump', cmd({ id: 'c2', release: true }), {}, 'cloud');
  assert.equal(published.at(-1)?.result.error, 'nothing to release: "pump" has no cloud hold');
  assert.equal(arbiter.status()[0].owner, `local:local-${T0}-1`);
  assert.deepEqual(handler.releaseLocal('pump'), { id: `local-${T0}-2`, ok: true, status: 'released', final: true, applied: true, ts: T0 });
  handler.handleCommand('pump', cmd({ id: 'c3', value: false }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.equal(published.at(-1)?.result.status, 'applied');
  assert.deepEqual(writes, ['pump=true', 'pump=false']);
});

test('with cloudOverridesLocal the newest of cloud and local wins, and a cloud release hands back to the local hold', async () => {
  const { clock, handler, published, arbiter } = setup({ cloudOverridesLocal: true });
  void handler.actuate('pump', true);
  await clock.advanceAsync(0);
  handler.handleCommand('pump', cmd({ id: 'c1', value: false }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.equal(published.at(-1)?.result.status, 'applied');
  handler.handleCommand('pump', cmd({ id: 'c2', release: true }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.equal(arbiter.status()[0].owner, `local:local-${T0}-1`);
  assert.equal(arbiter.status()[0].value, true);
});
