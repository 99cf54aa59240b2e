import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { record, type Recorder } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon';
import { fieldgate } from '../helpers/cli';
import { waitFor } from '../helpers/wait';
import { furnaceConfig } from '../helpers/furnace';

const ROOT = path.resolve(__dirname, '../..');

// Issue 10, case 1: one typo in another rule file present at start-up must not switch
// off the furnace interlock. The furnace (sim `thermal`) heats `step` °C/s while on.
const CONFIG = (broker: string, start: number, step: number) =>
  furnaceConfig(broker, { start, step, cloud: true, moreSensors: ['{ id: tank.level, waveform: constant, value: 40, interval: 200ms }'] });

// An unknown sensor id, line 3 "    when: " → column 11.
const TYPO = 'rules:\n  - id: tank-low\n    when: tank.levl < 10\n    then:\n      - event: { severity: warning, message: "tank low" }\n';

interface Ev {
  ts: number;
  type: string;
  source: string;
  message: string;
  details?: { problems?: string[] };
}

function harness(rec: Recorder, d: DaemonProcess) {
  const events = () => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);
  const status = async () => (await controlRequest(d.socketPath, 'status').catch(() => undefined)) as StatusSnapshot | undefined;
  const temps = () => rec.readings().filter((r) => r[0] === 'furnace.temp').map((r) => r[2] as number);
  return { events, status, temps };
}

async function setupDir(files: Record<string, string>) {
  const dir = tempDir('fg-lkg-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(rulesDir, name), text);
  return { dir, rulesDir };
}

const shipped = () => fs.readFileSync(path.join(ROOT, 'rules/furnace-overtemp.yaml'), 'utf8');

test('first start with a typo in another rule file and no last-known-good set: every actuator at its failsafe, the furnace stays below 81 °C', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const { dir, rulesDir } = await setupDir({ 'furnace-overtemp.yaml': shipped(), 'tank.yaml': TYPO });
  // From 76 °C at 1 °C/s: with the burner left on it passes 81 °C after 5 s.
  const d = startDaemon({ config: CONFIG(broker.url, 76, 1), dir, rulesDir });
  t.after(() => d.kill());
  const h = harness(rec, d);

  const rejected = await waitFor(() => h.events().find((e) => e.type === 'rules.rejected'), { timeoutMs: 15_000, what: 'rules.rejected' });
  assert.doesNotMatch(rejected.message, /previous rules keep running/);
  assert.match(rejected.message, /no rules run and every actuator is held at its failsafe value/);
  assert.match(rejected.details?.problems?.[0] ?? '', /tank\.yaml:3:11: unknown sensor "tank\.levl"/);
  await waitFor(async () => (await h.status())?.actuators.find((a) => a.id === 'furnace')?.value === false, { timeoutMs: 5_000, what: 'furnace at its failsafe (off)' });
  await new Promise((r) => setTimeout(r, 8_000));
  assert.ok(h.temps().length > 40, 'furnace temperatures were published');
  assert.ok(Math.max(...h.temps()) < 81, `furnace peaked at ${Math.max(...h.temps())} °C`);
  const s = await h.status();
  assert.equal(s?.healthy, false);
  assert.ok(s?.problems.some((p) => /rules rejected: .*tank\.yaml:3:11/.test(p)), s?.problems.join('; '));
  assert.ok(s?.problems.some((p) => /none running; every actuator is held at its failsafe value/.test(p)));
  // A cloud "on" is refused: the failsafe holds.
  rec.client.publish('fieldgate/test-gw/cmd/furnace', JSON.stringify({ id: 'op-1', value: true }), { qos: 1 });
  const result = JSON.parse((await rec.waitFor('cmd/furnace/result')).payload.toString()) as { ok: boolean; error?: string };
  assert.equal(result.ok, false);
  assert.match(result.error ?? '', /failsafe/);
  const cli = await fieldgate(['rules', '--socket', d.socketPath]);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /^NO RULES RUNNING: every actuator is held at its failsafe value/);
  assert.match(cli.stdout, /tank\.yaml:3:11: unknown sensor "tank\.levl"/);
  await d.stop('SIGTERM');
});

test('a broken edit left on disk: the next start runs the last-known-good set, says so, and the interlock still cuts the furnace', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const { dir, rulesDir } = await setupDir({ 'furnace-overtemp.yaml': shipped() });
  // 80.5 °C rising 0.05 °C/s: the interlock (above 80 °C for 5 s) cuts at about 80.75 °C.
  const config = CONFIG(broker.url, 80.5, 0.05);
  const first = startDaemon({ config, dir, rulesDir });
  t.after(() => first.kill());
  let h = harness(rec, first);
  await waitFor(() => h.events().find((e) => e.type === 'rules.loaded'), { timeoutMs: 15_000, what: 'the first load' });
  // The typo arrives while running: rejected, and the previous rules do keep running.
  fs.writeFileSync(path.join(rulesDir, 'tank.yaml'), TYPO);
  const hot = await waitFor(() => h.events().find((e) => e.type === 'rules.rejected'), { timeoutMs: 10_000, what: 'the hot-reload rejection' });
  assert.match(hot.message, /the previous rules keep running/);
  assert.equal(await first.stop('SIGTERM'), 0);

  rec.messages.length = 0;
  const second = startDaemon({ config, dir, rulesDir });
  t.after(() => second.kill());
  h = harness(rec, second);
  const boot = await waitFor(() => h.events().find((e) => e.type === 'rules.rejected'), { timeoutMs: 15_000, what: 'the start-up rejection' });
  assert.match(boot.message, /rejected at start-up \(1 error\(s\)\); running the last-known-good set accepted at \S+ \(1 rule\(s\)\)/);
  assert.equal(boot.message.includes('previous rules keep running'), false);
  const alarm = await waitFor(() => h.events().find((e) => e.type === 'alarm' && e.source === 'furnace-overtemp'), { timeoutMs: 15_000, what: 'the interlock firing' });
  assert.ok(alarm);
  await waitFor(async () => (await h.status())?.actuators.find((a) => a.id === 'furnace')?.value === false, { timeoutMs: 5_000, what: 'furnace cut' });
  await new Promise((r) => setTimeout(r, 1_000));
  assert.ok(Math.max(...h.temps()) < 81, `furnace peaked at ${Math.max(...h.temps())} °C`);
  const s = await h.status();
  assert.equal(s?.healthy, false);
  assert.equal(s?.rules.running, 'last-known-good');
  assert.ok(s?.problems.some((p) => /rules rejected: .*tank\.yaml:3:11: unknown sensor "tank\.levl"/.test(p)), s?.problems.join('; '));
  const cli = await fieldgate(['rules', '--socket', second.socketPath]);
  assert.equal(cli.code, 1);
  assert.match(cli.stdout, /^RUNNING THE LAST-KNOWN-GOOD SET \(1 rule\(s\) accepted \S+ \S+, running since \S+ \S+\): the rule files in .*rules\.d were rejected at start-up\n/);
  assert.match(cli.stdout, /furnace-overtemp\s+active/);

  // Fixing the file brings the directory's set back, and `fieldgate rules` is content again.
  fs.unlinkSync(path.join(rulesDir, 'tank.yaml'));
  await waitFor(() => h.events().find((e) => e.type === 'rules.loaded'), { timeoutMs: 10_000, what: 'the fixed set loaded' });
  const ok = await fieldgate(['rules', '--socket', second.socketPath]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^rules from .*rules\.d: 1 rule\(s\) accepted/);
  await second.stop('SIGTERM');
});
