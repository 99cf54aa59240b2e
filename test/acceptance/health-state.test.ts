import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { fieldgate } from '../helpers/cli';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { waitFor } from '../helpers/wait';
import { furnaceConfig } from '../helpers/furnace';

const ROOT = path.resolve(__dirname, '../..');

// Issue 13: health levels, sensor events, retained actuator state and alarms,
// checked from outside (an MQTT subscriber, the CLI) against a real daemon.
const MODBUS = (broker: string, port: number) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: modbus
    id: plc
    bus: { type: tcp, host: 127.0.0.1, port: ${port} }
    reopen: { initial: 200ms, max: 500ms }
    devices:
      - name: boiler
        unit: 1
        interval: 200ms
        timeout: 200ms
        sensors: [ { id: boiler.temp, register: holding, address: 10, maxAge: 1s } ]
`;

interface Ev {
  type: string;
  source: string;
  message: string;
  details?: Record<string, unknown>;
}

test('a Modbus TCP slave killed mid-run turns the gateway degraded (sensor.stale, the problem) and back (sensor.recovered, ok)', { timeout: 60_000 }, async (t) => {
  const model = new SlaveModel();
  model.addUnit(1).holding[10] = 55;
  let slave = await startTcpSlave(model);
  const port = slave.port;
  t.after(() => slave.close());
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const d = startDaemon({ config: MODBUS(broker.url, port) });
  t.after(() => d.kill());
  const status = async () => (await controlRequest(d.socketPath, 'status').catch(() => undefined)) as StatusSnapshot | undefined;
  const events = () => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);

  await waitFor(async () => (await status())?.level === 'ok', { timeoutMs: 15_000, what: 'level ok' });
  assert.equal((await fieldgate(['status', '--socket', d.socketPath])).code, 0);

  await slave.close();
  const stale = await waitFor(() => events().find((e) => e.type === 'sensor.stale' && e.source === 'boiler.temp'), { timeoutMs: 10_000, what: 'sensor.stale' }).catch(async (err: unknown) => {
    throw new Error(`${String(err)}; status ${JSON.stringify(await status())}; events ${JSON.stringify(events())}`);
  });
  assert.match(stale.message, /^sensor boiler\.temp has delivered no usable sample for \d+ s$/);
  const down = await waitFor(async () => {
    const s = await status();
    return s?.level === 'degraded' && s.problems.some((p) => /^sensor boiler\.temp is stale/.test(p)) ? s : undefined;
  }, { timeoutMs: 10_000, what: 'degraded with the stale sensor' });
  assert.ok(down.issues?.some((i) => i.component === 'sensor:boiler.temp' && i.level === 'degraded'));
  const cli = await fieldgate(['status', '--socket', d.socketPath]);
  assert.equal(cli.code, 1, 'degraded exits 1');
  assert.match(cli.stdout, /^fieldgate \S+ {2}gateway test-gw {2}up \S+ {2}DEGRADED\n/);
  assert.match(cli.stdout, /\nDevices\n {2}DEVICE +STATUS +LAST ERROR\n {2}plc\/boiler /);

  slave = await startTcpSlave(model, port);
  await waitFor(() => events().find((e) => e.type === 'sensor.recovered' && e.source === 'boiler.temp'), { timeoutMs: 15_000, what: 'sensor.recovered' });
  await waitFor(async () => (await status())?.level === 'ok', { timeoutMs: 15_000, what: 'ok again' });
  assert.equal(events().filter((e) => e.type === 'sensor.stale').length, 1, 'one stale event, not one per check');
  await d.stop('SIGTERM');
});

// The furnace held at ~84 °C with the shipped interlock (as in safety-reload.test.ts).
const FURNACE = (broker: string) => furnaceConfig(broker, { start: 84, step: 0.05 });

interface StateDoc {
  actuator: string;
  value: boolean | number | null;
  source: { kind: string; id?: string };
  since: number;
  lastWrite?: { ok: boolean };
}

interface AlarmsDoc {
  active: { id: string; source: string; severity: string; acknowledged?: { by: string } }[];
}

test('retained state/<actuator> and alarms are correct, acknowledged from the CLI, and again after a restart', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-state-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.copyFileSync(path.join(ROOT, 'rules/furnace-overtemp.yaml'), path.join(rulesDir, 'furnace-overtemp.yaml'));
  const d = startDaemon({ config: FURNACE(broker.url), dir, rulesDir });
  t.after(() => d.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const lastOf = <T>(suffix: string) => {
    const m = rec.on(suffix).at(-1);
    return m ? (JSON.parse(m.payload.toString()) as T) : undefined;
  };

  // At start the furnace is on at its initial value, held by nobody.
  await waitFor(() => lastOf<StateDoc>('state/furnace')?.value === true, { timeoutMs: 15_000, what: 'state furnace=true' });
  assert.deepEqual(lastOf<StateDoc>('state/furnace')?.source, { kind: 'none' });
  // Above 80 °C for 5 s the interlock cuts it: the state says who holds it; the alarm is listed.
  const cut = await waitFor(() => (lastOf<StateDoc>('state/furnace')?.value === false ? lastOf<StateDoc>('state/furnace') : undefined), { timeoutMs: 15_000, what: 'state furnace=false' });
  assert.deepEqual(cut.source, { kind: 'safety', id: 'furnace-overtemp' });
  assert.equal(cut.lastWrite?.ok, true);
  const alarms = await waitFor(() => lastOf<AlarmsDoc>('alarms')?.active.length === 1 ? lastOf<AlarmsDoc>('alarms') : undefined, { what: 'one active alarm' });
  const alarm = alarms.active[0];
  assert.equal(alarm.source, 'furnace-overtemp');
  assert.equal(alarm.severity, 'critical');
  const raised = rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev).find((e) => e.type === 'alarm');
  assert.equal(raised?.details?.alarmId, alarm.id, 'the alarm event carries the id');

  // Acknowledge from the CLI; the retained list says who.
  const list = await fieldgate(['alarms', '--socket', d.socketPath]);
  assert.equal(list.code, 1, 'alarms exits 1 while one is active');
  assert.match(list.stdout, new RegExp(`^ID +RULE +SEVERITY +SINCE +ACKNOWLEDGED +MESSAGE\\n${alarm.id.replace(/[#.]/g, '\\$&')} +furnace-overtemp +critical `));
  const ack = await fieldgate(['alarms', 'ack', alarm.id, '--by', 'eng-anna', '--socket', d.socketPath]);
  assert.equal(ack.code, 0, ack.stdout + ack.stderr);
  await waitFor(() => lastOf<AlarmsDoc>('alarms')?.active[0]?.acknowledged?.by === 'local:eng-anna', { what: 'acknowledged in the retained list' });
  assert.equal((await fieldgate(['alarms', 'ack', 'nosuch#1', '--socket', d.socketPath])).code, 1);

  // Retained: a subscriber arriving now gets the current state and alarms at once.
  const late = await record(broker.url, 'fieldgate/test-gw/+/+', 'fieldgate/test-gw/');
  t.after(() => late.close());
  const retainedState = await late.waitFor('state/furnace');
  assert.equal(retainedState.retain, true);
  assert.equal((JSON.parse(retainedState.payload.toString()) as StateDoc).value, false);

  // Restart: the state is published again after the connect, and is the truth.
  assert.equal(await d.stop('SIGTERM'), 0);
  const beforeRestart = rec.messages.length;
  const again = startDaemon({ config: FURNACE(broker.url), dir, rulesDir });
  t.after(() => again.kill());
  const after = () => rec.messages.slice(beforeRestart).filter((m) => m.topic === 'fieldgate/test-gw/state/furnace').map((m) => JSON.parse(m.payload.toString()) as StateDoc);
  await waitFor(() => after().length > 0, { timeoutMs: 15_000, what: 'state published after the restart' });
  // The sim restarts at 84 °C with the burner on; the interlock cuts it again after 5 s.
  await waitFor(() => after().at(-1)?.value === false && after().at(-1)?.source.id === 'furnace-overtemp', { timeoutMs: 15_000, what: 'cut again after the restart' });
  await waitFor(() => lastOf<AlarmsDoc>('alarms')?.active.length === 1, { what: 'the alarm active again' });
  await again.stop('SIGTERM');
});
