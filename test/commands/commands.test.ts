import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Arbiter } from '../../src/arbiter/arbiter';
import { CommandLog } from '../../src/commands/command-log';
import { importLegacyCommandLog, LEGACY_MAX_BYTES } from '../../src/commands/legacy-log';
import { CommandHandler, type CommandResult } from '../../src/commands/commands';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { actuator } from '../rules/helpers';
import { prng } from '../../src/core/prng';

const T0 = Date.UTC(2026, 0, 1);

function setup(commandLog?: CommandLog) {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  const published: { actuator: string; result: CommandResult; topic?: string }[] = [];
  const arbiter = new Arbiter({
    actuators: [
      actuator({ id: 'furnace', initial: true, cloud: true }),
      actuator({ id: 'valve', type: 'number', min: 0, max: 100, cloud: true, initial: 0 }),
      actuator({ id: 'door.lock', initial: true, cloud: false }),
    ],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    write: async (id, _t, value) => {
      writes.push(`${id}=${String(value)}`);
    },
  });
  const handler = new CommandHandler({
    arbiter,
    clock,
    log: silentLogger,
    commandLog,
    config: { maxRejectionsPerMinute: 1_000_000 },
    publishResult: (a, result, meta) => published.push({ actuator: a, result, topic: meta.responseTopic }),
  });
  arbiter.start();
  /** Send a command and return the result published for it right away (a rejection), if any. */
  const send = (a: string, payload: string | Buffer, meta = {}) => {
    const before = published.length;
    handler.handleCommand(a, payload, meta, 'cloud');
    return published.slice(before).at(-1)?.result;
  };
  return { clock, writes, published, arbiter, handler, send };
}

const cmd = (o: unknown) => Buffer.from(JSON.stringify(o));

test('a valid command is answered once the write is done; MQTT 5 response topic is passed through', async () => {
  const { clock, writes, published, handler } = setup();
  await clock.advanceAsync(0);
  handler.handleCommand('valve', cmd({ id: 'c1', value: 42 }), { responseTopic: 'reply/here' }, 'cloud');
  assert.deepEqual(published, [], 'nothing said before the driver answered');
  await clock.advanceAsync(0);
  assert.deepEqual(writes, ['furnace=true', 'valve=0', 'door.lock=true', 'valve=42']);
  assert.deepEqual(published, [{ actuator: 'valve', result: { id: 'c1', ok: true, status: 'applied', final: true, applied: 42, owner: 'cmd:c1', ts: T0 }, topic: 'reply/here' }]);
});

test('each kind of bad command is rejected with a clear error', async () => {
  const { clock, arbiter, handler, send } = setup();
  arbiter.hold('furnace', { key: 'rule:overtemp', label: 'furnace-overtemp', priority: 'safety' }, false);
  const err = (a: string, payload: string | Buffer) => send(a, payload)?.error;
  assert.match(err('furnace', '{"id": "x", "value": tr') ?? '', /^malformed JSON/);
  assert.equal(err('furnace', '[1,2]'), 'payload must be a JSON object {"id", "value"}');
  assert.equal(err('furnace', '{"value": true}'), 'missing id');
  assert.equal(err('nope', '{"id": "a1", "value": true}'), 'unknown actuator "nope"');
  assert.equal(err('door.lock', '{"id": "a2", "value": false}'), 'actuator "door.lock" is not cloud-controllable (cloud: false)');
  assert.equal(err('valve', '{"id": "a3", "value": "50"}'), 'actuator "valve" takes a number, not "50"');
  assert.equal(err('valve', '{"id": "a4", "value": 101}'), 'value 101 is above the maximum 100 of actuator "valve"');
  assert.equal(err('valve', `{"id": "a5", "value": 1, "expiresAt": ${T0 - 1}}`), 'expired (expiresAt 2025-12-31T23:59:59.999Z is 1 ms in the past)');
  assert.equal(err('furnace', '{"id": "a6", "value": true}'), 'blocked by safety rule furnace-overtemp');
  assert.equal(err('valve', '{"id": "a7", "value": 1, "force": true}'), 'unknown field(s) "force"; expected id, value, expiresAt, release');
  assert.equal(err('valve', '{"id": "a8"}'), 'missing value');
  assert.equal(err('valve', Buffer.alloc(17_000, 32)), 'payload too large (17000 bytes; limit 16384)');
  // a local command may drive a non-cloud actuator
  const local = handler.actuate('door.lock', false);
  await clock.advanceAsync(0);
  assert.equal((await local).ok, true);
});

test('rate limit rejects commands beyond maxWritesPerMinute', async () => {
  const clock = new VirtualClock(T0);
  const arbiter = new Arbiter({
    actuators: [actuator({ id: 'fan', cloud: true, maxWritesPerMinute: 2 })],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    write: async () => {},
  });
  const results: CommandResult[] = [];
  const handler = new CommandHandler({ arbiter, clock, log: silentLogger, publishResult: (_a, r) => results.push(r) });
  arbiter.start();
  const send = async (id: string, value: boolean) => {
    handler.handleCommand('fan', cmd({ id, value }), {}, 'cloud');
    await clock.advanceAsync(0);
    return results.at(-1);
  };
  assert.equal((await send('1', true))?.ok, true);
  assert.equal((await send('2', false))?.ok, true);
  assert.equal((await send('3', true))?.error, 'rate limit: at most 2 writes per minute to "fan"');
});

test('a duplicated command id is executed exactly once, answered again with duplicate: true; a different command under the same id is a conflict', async () => {
  const { clock, writes, published, handler, send } = setup();
  await clock.advanceAsync(0);
  handler.handleCommand('valve', cmd({ id: 'dup', value: 10 }), {}, 'cloud');
  await clock.advanceAsync(1000);
  const first = published.at(-1)?.result;
  assert.deepEqual(first, { id: 'dup', ok: true, status: 'applied', final: true, applied: 10, owner: 'cmd:dup', ts: T0 });
  handler.handleCommand('valve', cmd({ id: 'other', value: 20 }), {}, 'cloud');
  await clock.advanceAsync(1000);
  const again = send('valve', cmd({ id: 'dup', value: 10 }));
  const third = send('valve', cmd({ id: 'dup', value: 99 }));
  await clock.advanceAsync(0);
  assert.deepEqual(again, { ...first, duplicate: true });
  assert.deepEqual(third, { id: 'dup', ok: false, status: 'rejected', final: true, error: 'conflict: id "dup" was already used for a different command to "valve"; use a new id', duplicate: true, ts: T0 + 2000 });
  assert.deepEqual(writes.filter((w) => w.startsWith('valve')), ['valve=0', 'valve=10', 'valve=20']);
  assert.equal(published.length, 4);
  assert.equal(handler.counts.duplicates, 1);
  assert.equal(handler.counts.conflicts, 1);
});

test('remembered ids survive a restart through the command log file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cmd-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'commands.db');
  const clockA = new VirtualClock(T0);
  const logA = new CommandLog({ file, clock: clockA, log: silentLogger });
  const a = setup(logA);
  a.handler.handleCommand('valve', cmd({ id: 'persist', value: 5 }), {}, 'cloud');
  await a.clock.advanceAsync(0);
  const first = a.published.at(-1)?.result;
  logA.close();
  const b = setup(new CommandLog({ file, clock: new VirtualClock(T0), log: silentLogger }));
  await b.clock.advanceAsync(0);
  assert.deepEqual(b.send('valve', cmd({ id: 'persist', value: 5 })), { ...first, duplicate: true });
  await b.clock.advanceAsync(0);
  assert.deepEqual(b.writes, ['furnace=true', 'valve=0', 'door.lock=true']);
});

test('fuzz: 10 000 random and malformed payloads yield only error results and change no actuator', async () => {
  const { clock, writes, arbiter, send } = setup();
  arbiter.hold('furnace', { key: 'rule:overtemp', label: 'overtemp', priority: 'safety' }, false);
  await clock.advanceAsync(0);
  const before = JSON.stringify(arbiter.status());
  const writesBefore = writes.length;
  const rnd = prng(20260101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const junkValues: unknown[] = [null, 'on', '1', [], {}, [true], { value: 1 }, -1, 101, 1e308, 0.5, 'NaN', true, false, 50];
  const randomString = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rnd() * 0x3000))).join('');
  const cases: (() => [string, Buffer])[] = [
    () => ['valve', Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)))], // random bytes
    () => ['valve', Buffer.from(JSON.stringify({ id: `t${rnd()}`, value: 42 }).slice(0, Math.floor(rnd() * 20)))], // truncated JSON
    () => ['valve', cmd(pick([1, 'x', null, true, [1, 2], randomString(8)]))], // not an object
    () => ['valve', cmd({ value: 42, nid: 'x' })], // missing id
    () => ['valve', cmd({ id: pick([1, '', null, true, {}, 'x'.repeat(200)]), value: 42 })], // bad id
    () => ['valve', cmd({ id: `v${rnd()}`, value: pick(junkValues.filter((v) => typeof v !== 'number' || v < 0 || v > 100 || v === 1e308)) })], // bad value
    () => ['furnace', cmd({ id: `f${rnd()}`, value: pick([1, 0, 'true', null, true]) })], // wrong type or interlocked (true)
    () => ['door.lock', cmd({ id: `d${rnd()}`, value: false })], // not cloud-controllable
    () => [randomString(6), cmd({ id: `u${rnd()}`, value: true })], // unknown actuator
    () => ['valve', cmd({ id: `e${rnd()}`, value: 7, expiresAt: T0 - 1 - Math.floor(rnd() * 1e6) })], // expired
    () => ['valve', cmd({ id: `k${rnd()}`, value: 7, [pick(['__proto__x', 'constructor', 'prio', 'Value'])]: 1 })], // unknown field
  ];
  let errors = 0;
  for (let i = 0; i < 10_000; i++) {
    const [act, payload] = pick(cases)();
    const r = send(act, payload);
    assert.ok(r, `no answer to ${payload.toString('utf8')} for ${act}`);
    assert.equal(r.ok, false, `payload ${payload.toString('utf8')} to ${act} was accepted`);
    assert.equal(typeof r.error, 'string');
    errors++;
  }
  await clock.advanceAsync(0);
  assert.equal(errors, 10_000);
  assert.equal(writes.length, writesBefore);
  assert.equal(JSON.stringify(arbiter.status()), before);
});

/** commands.json as the gateway before commands.db wrote it: [["<actuator>\u0000<id>", result], …], oldest first. */
function legacyFile(dir: string, rows: [string, unknown][]): string {
  const file = path.join(dir, 'commands.json');
  fs.writeFileSync(file, JSON.stringify(rows));
  return file;
}

test('pre-upgrade ids in commands.json are imported once into commands.db: a retry is answered, not applied again', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cmd-legacy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const json = legacyFile(dir, [
    ['valve\u0000two-days-ago', { id: 'two-days-ago', ok: true, applied: 9, ts: T0 - 2 * 86_400_000 }],
    [`${'x'.repeat(60_000)}\u0000h1`, { id: 'h1', ok: true, applied: true, ts: T0 - 1000 }],
    ['valve\u0000old-ok', { id: 'old-ok', ok: true, applied: 5, ts: T0 - 3_600_000 }],
    ['valve\u0000old-bad', { id: 'old-bad', ok: false, error: 'value 101 is above the maximum 100', ts: T0 - 60_000 }],
    ['valve\u0000mismatch', { id: 'other', ok: true, ts: T0 }],
  ]);
  const db = path.join(dir, 'commands.db');
  const clock = new VirtualClock(T0);
  const logA = new CommandLog({ file: db, clock, log: silentLogger });
  // past the 24 h window, a 60 KB actuator name and a row whose id disagrees with its key are left out
  assert.deepEqual(importLegacyCommandLog({ file: json, commandLog: logA, clock, log: silentLogger }), { imported: 2, skipped: 3 });
  assert.equal(fs.existsSync(json), false);
  assert.equal(fs.existsSync(`${json}.migrated`), true);
  assert.deepEqual(importLegacyCommandLog({ file: json, commandLog: logA, clock, log: silentLogger }), { imported: 0, skipped: 0 }, 'once: nothing left to import');
  logA.close();

  const b = setup(new CommandLog({ file: db, clock: new VirtualClock(T0), log: silentLogger }));
  await b.clock.advanceAsync(0);
  const writesBefore = [...b.writes];
  assert.deepEqual(b.send('valve', cmd({ id: 'old-ok', value: 5 })), { id: 'old-ok', ok: true, status: 'applied', final: true, applied: 5, ts: T0 - 3_600_000, duplicate: true });
  assert.deepEqual(b.send('valve', cmd({ id: 'old-bad', value: 101 })), { id: 'old-bad', ok: false, status: 'rejected', final: true, error: 'value 101 is above the maximum 100', ts: T0 - 60_000, duplicate: true });
  // what a pre-upgrade id asked for was not kept: any redelivery of it is answered, never applied
  assert.equal(b.send('valve', cmd({ id: 'old-ok', value: 6 }))?.duplicate, true);
  await b.clock.advanceAsync(0);
  assert.deepEqual(b.writes, writesBefore, 'nothing written again');
  assert.equal(b.send('valve', cmd({ id: 'two-days-ago', value: 9 })), undefined, 'outside the window: a new command (answered once written)');
});

test('a commands.json over its bound is not parsed; it is set aside so no start reads it again', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-cmd-legacy-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const big = legacyFile(dir, [['valve\u0000a', { id: 'a', ok: true, ts: T0, pad: 'p'.repeat(LEGACY_MAX_BYTES) }]]);
  const clock = new VirtualClock(T0);
  const log = new CommandLog({ clock, log: silentLogger });
  assert.deepEqual(importLegacyCommandLog({ file: big, commandLog: log, clock, log: silentLogger }), { imported: 0, skipped: 0, error: `commands.json is ${fs.statSync(`${big}.migrated`).size} bytes (limit ${LEGACY_MAX_BYTES}); not imported` });
  fs.writeFileSync(big, '[["valve\\u0000a", {"id": "a", "ok": tru');
  assert.match(importLegacyCommandLog({ file: big, commandLog: log, clock, log: silentLogger }).error ?? '', /^commands\.json is not valid JSON: /);
  assert.equal(log.size, 0);
});
