import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '../..');

// A furnace that heats or cools 5 °C/s (sim `thermal`) from 78 °C with the heater on.
function furnaceConfig(broker: string): string {
  return `gateway: { id: test-gw }
uplink:
  brokers: [${broker}]
  heartbeat: 1s
  batch: { maxReadings: 50, maxDelay: 50ms }
outbox: { flushInterval: 20ms }
drivers:
  - kind: sim
    id: sim
    outputs: { furnace: 1 }
    sensors:
      - { id: furnace.temp, waveform: thermal, heater: furnace, start: 78, min: 20, hot: 95, step: 5, interval: 100ms }
actuators:
  - { id: furnace, driver: sim, target: { output: furnace }, type: bool, failsafe: false, cloud: true }
`;
}

interface Ev {
  ts: number;
  type: string;
  severity: string;
  source: string;
  message: string;
}

test('furnace example end to end: cut after the for-duration, interlock rejects a cloud "on", back on below 75 °C', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const dir = tempDir('fg-furnace-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  // The shipped example rule file, unchanged.
  fs.copyFileSync(path.join(ROOT, 'rules/furnace-overtemp.yaml'), path.join(rulesDir, 'furnace-overtemp.yaml'));
  const d = startDaemon({ config: furnaceConfig(broker.url), dir, rulesDir });
  t.after(() => d.kill());

  const events = () => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);
  const temps = () => rec.readings().filter((r) => r[0] === 'furnace.temp') as [string, number, number, number, number][];

  const alarm = await waitFor(() => events().find((e) => e.type === 'alarm' && e.source === 'furnace-overtemp'), {
    timeoutMs: 20_000,
    what: 'the over-temperature alarm',
  });
  assert.equal(alarm.severity, 'critical');
  // The rule fired only after the temperature had been above 80 °C for 5 s.
  const firstOver = temps().find((r) => r[2] > 80);
  assert.ok(firstOver, 'a reading above 80 °C was published');
  const held = alarm.ts - firstOver[1];
  assert.ok(held >= 5000 && held < 6500, `cut ${held} ms after first exceeding 80 °C (for: 5s)`);

  // While the interlock holds, a cloud command to switch the furnace on is rejected.
  rec.client.publish('fieldgate/test-gw/cmd/furnace', JSON.stringify({ id: 'op-1', value: true }), { qos: 1 });
  const result = await rec.waitFor('cmd/furnace/result');
  const body = JSON.parse(result.payload.toString()) as { id: string; ok: boolean; error?: string };
  assert.equal(body.id, 'op-1');
  assert.equal(body.ok, false);
  assert.match(body.error ?? '', /safety rule furnace-overtemp/);
  const status = (await controlRequest(d.socketPath, 'status')) as { actuators: { id: string; value?: unknown }[] };
  assert.equal(status.actuators.find((a) => a.id === 'furnace')?.value, false, 'furnace stays off');

  // The heater being off, the furnace cools; below 75 °C the rule releases and the heater is back on.
  const clear = await waitFor(() => events().find((e) => e.type === 'alarm.clear' && e.source === 'furnace-overtemp'), {
    timeoutMs: 20_000,
    what: 'the alarm to clear',
  });
  // Events are sent ahead of batched data: wait for the readings around the release.
  await waitFor(() => temps().some((r) => r[1] > clear.ts), { timeoutMs: 5_000, what: 'readings after the release' });
  const lastBeforeClear = temps().filter((r) => r[1] <= clear.ts).pop();
  assert.ok(lastBeforeClear && lastBeforeClear[2] < 75, `released at ${lastBeforeClear?.[2]} °C (< 75)`);
  await waitFor(
    async () => ((await controlRequest(d.socketPath, 'status')) as { actuators: { id: string; value?: unknown }[] }).actuators.find((a) => a.id === 'furnace')?.value === true,
    { timeoutMs: 5_000, what: 'furnace back on' },
  );
  // And it heats again: a later reading is higher than the one at release.
  await waitFor(() => temps().some((r) => r[1] > clear.ts && r[2] > lastBeforeClear[2] + 1), { timeoutMs: 5_000, what: 'heating again' });
  // No chatter: exactly one alarm and one clear so far.
  assert.equal(events().filter((e) => e.type === 'alarm').length, 1);
  assert.equal(events().filter((e) => e.type === 'alarm.clear').length, 1);
  await d.stop('SIGTERM');
});
