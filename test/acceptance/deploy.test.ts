import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import type { RuleRow, StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { fieldgate } from '../helpers/cli';

// Issue 17: rule sets deployed from the cloud on req/deploy — signed, validated, atomic, monotonic.
const CONFIG = (broker: string, keysDir: string, extra = '') => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
deploy: { keysDir: ${keysDir}${extra} }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: tank.level, waveform: constant, value: 5, interval: 200ms } ]
`;

const rule = (id: string, when: string) => `rules:\n  - id: ${id}\n    when: ${when}\n    then:\n      - event: { severity: warning, message: "${id} fired" }\n`;

interface Answer {
  topic: string;
  body: { id: string; ok?: boolean; result?: Record<string, unknown>; error?: string; problems?: string[]; duplicate?: boolean; final?: boolean };
}
interface Ev {
  type: string;
  message: string;
}

const sha = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * A bundle signed as docs/operations.md says, written out here rather than
 * through src/deploy (so a mistake there cannot cancel out): the signed bytes
 * are "fieldgate-deploy v1", "version N", "label L" and "rules NAME SHA256"
 * per file sorted by name, each line ending in "\n".
 */
function bundle(id: string, version: number, label: string, files: Record<string, string>, key?: crypto.KeyObject, confirm: { confirm?: string; confirmWindow?: string } = {}) {
  const rules = Object.entries(files).map(([name, text]) => ({ name, text, sha256: sha(text) }));
  const names = [...rules].sort((a, b) => (a.name < b.name ? -1 : 1));
  const message = ['fieldgate-deploy v1', `version ${version}`, `label ${label}`, ...names.map((f) => `rules ${f.name} ${f.sha256}`)].join('\n') + '\n';
  const signature = key ? crypto.sign(null, Buffer.from(message), key).toString('base64') : undefined;
  return { id, version, label, rules, ...(signature ? { signature } : {}), ...confirm };
}

interface Heartbeat {
  rules: StatusSnapshot['rules'];
}

async function cloudClient(url: string): Promise<{ client: MqttClient; got: Answer[]; events: Ev[]; heartbeats: Heartbeat[] }> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const got: Answer[] = [];
  const events: Ev[] = [];
  const heartbeats: Heartbeat[] = [];
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/events')) events.push(JSON.parse(payload.toString()) as Ev);
    else if (topic.endsWith('/health')) heartbeats.push(JSON.parse(payload.toString()) as Heartbeat);
    else got.push({ topic, body: JSON.parse(payload.toString()) as Answer['body'] });
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(['fieldgate/test-gw/req/+/result', 'fieldgate/test-gw/events', 'fieldgate/test-gw/health'], { qos: 1 });
  return { client, got, events, heartbeats };
}

function keyPair(dir: string, name: string): crypto.KeyObject {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, name), publicKey.export({ type: 'spki', format: 'pem' }));
  return privateKey;
}

const LOCAL = rule('local-rule', 'tank.level > 100');

const statusOf = async (socket: string) => (await controlRequest(socket, 'status').catch(() => undefined)) as StatusSnapshot | undefined;
const online = (socket: string, what = 'online') => waitFor(async () => (await statusOf(socket))?.uplink.state === 'online', { timeoutMs: 15_000, what });

/** A request on req/<name>, and its first (not final) answer. */
function asker(client: MqttClient, got: Answer[]) {
  return async (body: { id: string }, name = 'deploy') => {
    await client.publishAsync(`fieldgate/test-gw/req/${name}`, JSON.stringify(body), { qos: 1 });
    return (await waitFor(() => got.find((g) => g.body.id === body.id && g.topic.endsWith(`/req/${name}/result`) && !g.body.final), { timeoutMs: 15_000, what: `the answer to ${body.id}` })).body;
  };
}

/** Mosquitto, a daemon with one pinned key and local.yaml in its rules directory, online, and a cloud client. */
async function gatewayUnderTest(t: TestContext, prefix: string, extra = '') {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir(prefix);
  const keysDir = path.join(dir, 'deploy-keys');
  const key = keyPair(keysDir, 'ops.pem');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'local.yaml'), LOCAL);
  const d = startDaemon({ config: CONFIG(broker.url, keysDir, extra), dir, rulesDir });
  t.after(() => d.kill());
  const cloud = await cloudClient(broker.url);
  t.after(() => cloud.client.end(true));
  await online(d.socketPath);
  const rules = async () => ((await controlRequest(d.socketPath, 'rules')) as RuleRow[]).map((r) => r.id).sort();
  return { broker, dir, keysDir, key, rulesDir, d, ...cloud, ask: asker(cloud.client, cloud.got), rules };
}

test('deploy: a good signed bundle, one with errors, a bad signature, an unsigned one, a replayed old one', { timeout: 60_000 }, async (t) => {
  const { broker, dir, keysDir, key, rulesDir, d, got, events, ask, rules } = await gatewayUnderTest(t, 'fg-deploy-');
  const stranger = crypto.generateKeyPairSync('ed25519').privateKey; // not pinned
  const dirFiles = () => fs.readdirSync(rulesDir).sort();

  // A good deploy: the bundle's files replace the set, the local file not in it is removed, the rule runs.
  const low = rule('tank-low', 'tank.level < 10');
  const good = await ask(bundle('d1', 3, 'first', { 'low.yaml': low }, key));
  assert.equal(good.ok, true, good.error);
  const { confirmBy, ...rest } = good.result ?? {};
  assert.deepEqual(rest, { version: 3, label: 'first', key: 'ops.pem', applied: true, state: 'pending', confirm: 'manual', rules: 1, files: ['low.yaml'], removed: ['local.yaml'] });
  assert.equal(typeof confirmBy, 'number');
  assert.deepEqual(dirFiles(), ['low.yaml']);
  assert.equal(fs.readFileSync(path.join(rulesDir, 'low.yaml'), 'utf8'), low);
  assert.deepEqual(await rules(), ['tank-low']);
  await waitFor(() => events.find((e) => e.type === 'deploy.applied'), { what: 'the deploy.applied event' });
  const kept = JSON.parse(fs.readFileSync(path.join(d.stateDir, 'deploy', 'versions', '3.json'), 'utf8')) as { rules: { text: string }[] };
  assert.equal(kept.rules[0].text, low, 'the version is kept in the state directory');
  // While it waits for its confirmation, another deploy is refused; a confirm of another version too.
  const early = await ask(bundle('d1b', 9, '', { 'low.yaml': low }, key));
  assert.match(early.error ?? '', /^version 3 is waiting for its confirmation \(until .*\); confirm it or let it roll back first$/);
  const wrong = await ask({ id: 'c0', version: 2 } as { id: string }, 'deploy.confirm');
  assert.equal(wrong.error, 'version 2 is not the deploy waiting for confirmation (version 3)');
  const confirmed = await ask({ id: 'c1', version: 3 } as { id: string }, 'deploy.confirm');
  assert.deepEqual(confirmed.result, { version: 3, state: 'confirmed' });
  const final = await waitFor(() => got.find((g) => g.body.id === 'd1' && g.body.final), { what: 'the final result of d1' });
  assert.equal(final.topic, 'fieldgate/test-gw/req/deploy/result');
  assert.deepEqual([final.body.ok, final.body.result], [true, { version: 3, state: 'confirmed', by: 'req/deploy.confirm' }]);

  // Errors: every problem as FILE:LINE:COL (line 3 "    when: tank.levl" → column 11), nothing changed.
  const bad = await ask(bundle('d2', 4, '', { 'low.yaml': low, 'typo.yaml': rule('tank-typo', 'tank.levl < 10') }, key));
  assert.equal(bad.ok, false);
  assert.equal(bad.error, 'bundle version 4 rejected: 1 error(s) in its rules; nothing was changed');
  assert.equal(bad.problems?.length, 1);
  assert.match(bad.problems?.[0] ?? '', new RegExp(`^${path.join(rulesDir, 'typo.yaml').replace(/[.]/g, '\\.')}:3:11: unknown sensor "tank\\.levl"`));
  assert.deepEqual(dirFiles(), ['low.yaml']);
  assert.deepEqual(await rules(), ['tank-low']);

  // A signature by a key that is not pinned; a signature over other bytes (a text changed after signing).
  const notPinned = await ask(bundle('d3', 5, '', { 'x.yaml': rule('x', 'tank.level < 1') }, stranger));
  assert.equal(notPinned.ok, false);
  assert.equal(notPinned.error, `signature does not verify against any key pinned in ${keysDir} (ops.pem)`);
  const tampered = bundle('d4', 5, '', { 'x.yaml': rule('x', 'tank.level < 1') }, key);
  const edited = rule('x', 'tank.level < 2');
  tampered.rules[0] = { name: 'x.yaml', text: edited, sha256: sha(edited) };
  const tamperedAnswer = await ask(tampered);
  assert.equal(tamperedAnswer.error, `signature does not verify against any key pinned in ${keysDir} (ops.pem)`);
  const unsigned = await ask(bundle('d5', 5, '', { 'x.yaml': rule('x', 'tank.level < 1') }));
  assert.equal(unsigned.error, `bundle is not signed; this gateway takes only bundles signed by a key pinned in ${keysDir} (deploy.allowUnsigned is false)`);
  assert.deepEqual(dirFiles(), ['low.yaml']);

  // The first bundle replayed under a new id, and an older version: refused.
  const replay = await ask({ ...bundle('d1', 3, 'first', { 'low.yaml': low }, key), id: 'd6' });
  assert.equal(replay.error, 'version 3 is not newer than version 3, the newest deployed here; an older or replayed bundle is refused');
  const older = await ask(bundle('d7', 2, '', { 'x.yaml': rule('x', 'tank.level < 1') }, key));
  assert.match(older.error ?? '', /^version 2 is not newer than version 3, the newest deployed here/);
  assert.deepEqual(dirFiles(), ['low.yaml']);
  assert.ok(events.some((e) => e.type === 'deploy.rejected' && /signature does not verify/.test(e.message)));

  // Versions stay monotonic across a restart.
  assert.equal(await d.stop('SIGTERM'), 0);
  const d2 = startDaemon({ config: CONFIG(broker.url, keysDir), dir, rulesDir });
  t.after(() => d2.kill());
  await online(d2.socketPath, 'online again');
  const afterRestart = await ask({ ...bundle('d1', 3, 'first', { 'low.yaml': low }, key), id: 'd8' });
  assert.match(afterRestart.error ?? '', /^version 3 is not newer than version 3/);
  const next = await ask(bundle('d9', 4, '', { 'low.yaml': low, 'high.yaml': rule('tank-high', 'tank.level > 90') }, key));
  assert.equal(next.ok, true, next.error);
  assert.deepEqual(dirFiles(), ['high.yaml', 'low.yaml']);

  // On site: `fieldgate config rollback` undoes the deploy waiting for confirmation; the cloud gets the final result.
  const env = { FIELDGATE_SOCKET: d2.socketPath };
  const undo = await fieldgate(['config', 'rollback'], { env });
  assert.equal(undo.stdout, 'rolled back: version 4 → version 3\n', undo.stderr);
  assert.deepEqual(dirFiles(), ['low.yaml']);
  const undone = await waitFor(() => got.find((g) => g.body.id === 'd9' && g.body.final), { what: 'the final result of d9' });
  assert.equal(undone.body.error, 'rules version 4 was undone on site: rolled back to version 3; 1 rule(s) run');
  const notKept = await fieldgate(['config', 'rollback', '2'], { env });
  assert.equal(notKept.code, 1);
  assert.match(notKept.stderr, /^fieldgate config rollback: rule-set version 2 is not kept in .*deploy \(kept: 4, 3\)\n$/);
  await d2.stop('SIGTERM');
});

test('deploy: unsigned bundles are taken only where the config allows them; a bad signature is refused even there', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-deploy-unsigned-');
  const keysDir = path.join(dir, 'no-keys');
  const d = startDaemon({ config: CONFIG(broker.url, keysDir, ', allowUnsigned: true'), dir });
  t.after(() => d.kill());
  const { client, got } = await cloudClient(broker.url);
  t.after(() => client.end(true));
  await online(d.socketPath);
  const ask = asker(client, got);
  const ok = await ask(bundle('u1', 1, 'lab', { 'a.yaml': rule('a', 'tank.level < 10') }));
  assert.equal(ok.ok, true, ok.error);
  assert.equal(ok.result?.key, 'unsigned');
  const forged = await ask(bundle('u2', 2, 'lab', { 'a.yaml': rule('a', 'tank.level < 10') }, crypto.generateKeyPairSync('ed25519').privateKey));
  assert.equal(forged.ok, false);
  assert.match(forged.error ?? '', new RegExp(`^no Ed25519 public key is pinned in ${keysDir.replace(/[.]/g, '\\.')} \\(skipped: .*ENOENT\\)$`));
  await d.stop('SIGTERM');
});

test('deploy: version, hash and source in status and the heartbeat; a local edit is reported as drift, runs, and the next deploy says it replaced it', { timeout: 60_000 }, async (t) => {
  const { key, rulesDir, d, got, events, heartbeats, ask } = await gatewayUnderTest(t, 'fg-deploy-drift-');
  const local = LOCAL;
  const status = () => statusOf(d.socketPath);
  // The set's hash: sha256 of "rules NAME SHA256\n" per file, sorted by name (docs/operations.md).
  const setHash = (files: Record<string, string>) =>
    sha(
      Object.keys(files)
        .sort()
        .map((n) => `rules ${n} ${sha(files[n])}\n`)
        .join(''),
    );

  let s = await status();
  assert.equal(s?.rules.source, 'local');
  assert.equal(s?.rules.hash, setHash({ 'local.yaml': local }));
  assert.equal(s?.rules.version, undefined);

  const low = rule('tank-low', 'tank.level < 10');
  assert.equal((await ask(bundle('v1', 1, 'one', { 'low.yaml': low }, key, { confirm: 'auto' }))).ok, true);
  // auto: confirmed by the gateway itself once healthy and online.
  const auto = await waitFor(() => got.find((g) => g.body.id === 'v1' && g.body.final), { timeoutMs: 10_000, what: 'the auto confirmation' });
  assert.deepEqual(auto.body.result, { version: 1, state: 'confirmed', by: 'auto (healthy and online)' });
  s = await status();
  assert.deepEqual([s?.rules.source, s?.rules.version, s?.rules.label, s?.rules.hash], ['deploy', 1, 'one', setHash({ 'low.yaml': low })]);
  const beat = await waitFor(() => heartbeats.find((h) => h.rules.version === 1), { timeoutMs: 10_000, what: 'a heartbeat with the deployed version' });
  assert.equal(beat.rules.source, 'deploy');
  assert.equal(beat.rules.hash, setHash({ 'low.yaml': low }));

  // An engineer edits the deployed file on site: it runs, and it is reported as drift.
  const edited = rule('tank-low', 'tank.level < 20');
  fs.writeFileSync(path.join(rulesDir, 'low.yaml'), edited);
  const drift = await waitFor(() => events.find((e) => e.type === 'deploy.drift'), { timeoutMs: 10_000, what: 'the drift event' });
  assert.equal(drift.message, 'the rules on disk differ from deployed version 1 (changed low.yaml): the local edit runs until the next deploy');
  s = await status();
  assert.equal(s?.rules.source, 'local-edit');
  assert.equal(s?.rules.version, 1);
  assert.deepEqual(s?.rules.drift, { changed: ['low.yaml'], added: [], removed: [] });
  assert.equal(s?.rules.hash, setHash({ 'low.yaml': edited }));
  const text = await fieldgate(['status'], { env: { FIELDGATE_SOCKET: d.socketPath } });
  assert.match(text.stdout, /LOCAL EDIT over deployed version 1 "one" \(low\.yaml changed\)/);

  // The next deploy replaces the edit and says so.
  const next = await ask(bundle('v2', 2, '', { 'low.yaml': low }, key));
  assert.equal(next.ok, true, next.error);
  assert.deepEqual(next.result?.replacedLocalEdit, { changed: ['low.yaml'], added: [], removed: [] });
  const applied = await waitFor(() => events.find((e) => e.type === 'deploy.applied' && e.message.includes('version 2')), { what: 'the second deploy event' });
  assert.match(applied.message, /; replaced a local edit \(changed low\.yaml\); waiting 2m for its confirmation \(manual\)$/);
  assert.equal(fs.readFileSync(path.join(rulesDir, 'low.yaml'), 'utf8'), low);
  assert.equal((await status())?.rules.source, 'deploy');
  await d.stop('SIGTERM');
});

test('deploy: not confirmed within its window, it rolls back by itself to the files that ran before, with an event and a final result', { timeout: 60_000 }, async (t) => {
  const { key, rulesDir, d, client, got, events, rules } = await gatewayUnderTest(t, 'fg-deploy-rollback-');
  const local = LOCAL;
  await client.publishAsync('fieldgate/test-gw/req/deploy', JSON.stringify(bundle('r1', 1, '', { 'new.yaml': rule('new-rule', 'tank.level < 10') }, key, { confirmWindow: '2s' })), { qos: 1 });
  const first = await waitFor(() => got.find((g) => g.body.id === 'r1' && !g.body.final), { timeoutMs: 15_000, what: 'the deploy answer' });
  assert.equal(first.body.result?.state, 'pending');
  assert.deepEqual(await rules(), ['new-rule']);

  const final = await waitFor(() => got.find((g) => g.body.id === 'r1' && g.body.final), { timeoutMs: 15_000, what: 'the rollback' });
  assert.equal(final.body.ok, false);
  assert.equal(final.body.error, 'rules version 1 was not confirmed within 2s: rolled back to the local files that ran before; 1 rule(s) run');
  assert.deepEqual(final.body.result, { version: 1, state: 'rolled-back', to: null });
  assert.ok(events.some((e) => e.type === 'deploy.rolledback'));
  assert.deepEqual(fs.readdirSync(rulesDir), ['local.yaml']);
  assert.equal(fs.readFileSync(path.join(rulesDir, 'local.yaml'), 'utf8'), local);
  assert.deepEqual(await rules(), ['local-rule']);
  const s = (await controlRequest(d.socketPath, 'status')) as StatusSnapshot;
  assert.equal(s.rules.source, 'local');
  // The rolled-back version stays spent: replaying it is refused.
  await client.publishAsync('fieldgate/test-gw/req/deploy', JSON.stringify(bundle('r2', 1, '', { 'new.yaml': rule('new-rule', 'tank.level < 10') }, key)), { qos: 1 });
  const replay = await waitFor(() => got.find((g) => g.body.id === 'r2'), { timeoutMs: 15_000, what: 'the replay answer' });
  assert.match(replay.body.error ?? '', /^version 1 is not newer than version 1/);
  await d.stop('SIGTERM');
});

test('deploy: a config with a wrong broker restarts the gateway with it, is not confirmed, and comes back on its own to the old config', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-deploy-config-');
  const keysDir = path.join(dir, 'deploy-keys');
  const key = keyPair(keysDir, 'ops.pem');
  const good = CONFIG(broker.url, keysDir);
  // systemd's part: start the service again after a controlled restart (exit 75), with whatever config is on disk.
  const configFile = path.join(dir, 'gateway.yaml');
  let d = startDaemon({ config: good, dir });
  const procs = [d];
  t.after(async () => {
    for (const p of procs) await p.kill();
  });
  const restart = async (what: string) => {
    const code = await d.exited;
    assert.equal(code, 75, `${what}: a controlled restart exits 75`);
    d = startDaemon({ config: fs.readFileSync(configFile, 'utf8'), dir });
    procs.push(d);
  };
  const { client, got } = await cloudClient(broker.url);
  t.after(() => client.end(true));
  await online(d.socketPath);

  // A config whose only broker has nobody listening (a port Mosquitto gave up), signed like any bundle.
  const dead = await startMosquitto();
  const deadUrl = dead.url;
  await dead.kill();
  const wrong = CONFIG(deadUrl, keysDir);
  const sha256 = sha(wrong);
  const message = `fieldgate-deploy v1\nversion 1\nlabel wrong-broker\nconfig ${sha256}\n`;
  const body = { id: 'c1', version: 1, label: 'wrong-broker', config: { text: wrong, sha256 }, confirm: 'auto', confirmWindow: '3s', signature: crypto.sign(null, Buffer.from(message), key).toString('base64') };
  await client.publishAsync('fieldgate/test-gw/req/deploy', JSON.stringify(body), { qos: 1 });
  const answer = await waitFor(() => got.find((g) => g.body.id === 'c1' && !g.body.final), { timeoutMs: 15_000, what: 'the config deploy answer' });
  assert.equal(answer.body.ok, true, answer.body.error);
  assert.deepEqual([answer.body.result?.state, answer.body.result?.restart], ['pending', true]);

  await restart('the deploy');
  assert.equal(fs.readFileSync(configFile, 'utf8'), wrong, 'the second process runs the deployed config');
  await restart('the rollback'); // not online within 3 s: the old config back, restart again
  assert.equal(fs.readFileSync(configFile, 'utf8'), good);
  const final = await waitFor(() => got.find((g) => g.body.id === 'c1' && g.body.final), { timeoutMs: 20_000, what: 'the final result, delivered by the third process' });
  assert.equal(final.body.ok, false);
  assert.equal(final.body.error, `config version 1 was not confirmed within 3s: the previous config is back in ${configFile}; restarting with it`);
  await online(d.socketPath, 'online again on the old broker');
  assert.deepEqual((await statusOf(d.socketPath))?.config, { source: 'local', hash: sha(good) }, 'the old config, from the local file');
  assert.equal(await d.stop('SIGTERM'), 0);
});
