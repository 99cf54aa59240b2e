import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { connect } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

/**
 * Precedence a site can trust: `fieldgate actuate` (a real CLI process) sets a
 * local hold that cloud commands (an outside MQTT client) cannot replace or
 * release; `fieldgate actuate ACTUATOR --release` drops it.
 */
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

const CONFIG = (broker: string) => `gateway: { id: gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true, initial: false }
`;

function fieldgate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

interface Result {
  id: string;
  ok?: boolean;
  status: string;
  final: boolean;
  error?: string;
  owner?: string;
}

test('a local hold outranks the cloud; only the CLI releases it', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: CONFIG(broker.url) });
  t.after(() => d.kill());
  const cloud = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => cloud.end(true));
  const got: Result[] = [];
  cloud.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString()) as Result));
  await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
  await cloud.subscribeAsync('fieldgate/gw/cmd/+/result', { qos: 1 });
  const status = async () => (await controlRequest(d.socketPath, 'status').catch(() => undefined)) as { uplink?: { state: string }; actuators: { id: string; owner?: string; value?: unknown }[] } | undefined;
  await waitFor(async () => (await status())?.uplink?.state === 'online', { timeoutMs: 15_000, what: 'the daemon online' });
  const send = (body: unknown) => cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify(body), { qos: 1 });
  const final = (id: string) => waitFor(() => got.find((r) => r.id === id && r.final), { what: `the final result of ${id}` });

  const on = await fieldgate(['actuate', 'pump', 'on', '--socket', d.socketPath]);
  assert.equal(on.code, 0, on.err);
  assert.match(on.out, /^pump = true: applied; held by local:local-\d+-1 \(command local-\d+-1\)\n$/);

  await send({ id: 'c1', value: false });
  assert.match((await final('c1')).error ?? '', /^blocked by local hold local:local-\d+-1$/);
  await send({ id: 'c2', release: true });
  assert.equal((await final('c2')).error, 'nothing to release: "pump" has no cloud hold');
  const held = (await status())?.actuators.find((a) => a.id === 'pump');
  assert.match(held?.owner ?? '', /^local:/);
  assert.equal(held?.value, true);

  const rel = await fieldgate(['actuate', 'pump', '--release', '--socket', d.socketPath]);
  assert.equal(rel.code, 0, rel.err);
  assert.match(rel.out, /^pump: local hold released, now (true|false) \(command local-\d+-2\)\n$/);
  await send({ id: 'c3', value: true });
  assert.deepEqual([(await final('c3')).status, (await final('c3')).owner], ['applied', 'cmd:c3']);
  const again = await fieldgate(['actuate', 'pump', '--release', '--socket', d.socketPath]);
  assert.equal(again.code, 1);
  assert.match(again.out, /^pump: release: rejected: nothing to release: "pump" has no local hold/);
  await d.stop('SIGTERM');
});
