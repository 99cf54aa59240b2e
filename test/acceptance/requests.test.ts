import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type MqttClient } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import type { StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

// Issue 13: requests on <prefix>/<gw>/req/<name>, and retained desired-state
// commands reconciled after a restart — from an outside MQTT 5 client.
const CONFIG = (broker: string, initial: boolean) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    outputs: { pump: 0 }
    sensors: [ { id: tank.level, waveform: constant, value: 40, interval: 200ms, pipeline: [ { kind: scale, rawMin: 0, rawMax: 100, min: 0, max: 10 } ] } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, initial: ${initial}, cloud: true }
`;

interface Answer {
  topic: string;
  body: { id: string; ok?: boolean; status?: string; result?: unknown; error?: string; duplicate?: boolean; applied?: unknown };
  correlation?: string;
}

async function cloudClient(url: string): Promise<{ client: MqttClient; got: Answer[] }> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const got: Answer[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, body: JSON.parse(payload.toString()) as Answer['body'], correlation: packet.properties?.correlationData?.toString() }));
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(['fieldgate/test-gw/req/+/result', 'fieldgate/test-gw/cmd/+/result', 'fieldgate/test-gw/replies/#'], { qos: 1 });
  return { client, got };
}

const online = async (socket: string) =>
  waitFor(async () => ((await controlRequest(socket, 'status').catch(() => undefined)) as StatusSnapshot | undefined)?.uplink.state === 'online', { timeoutMs: 15_000, what: 'online' });

test('requests: ping, health, logs, trace, unknown, a repeated id, response topics', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: CONFIG(broker.url, false) });
  t.after(() => d.kill());
  const { client, got } = await cloudClient(broker.url);
  t.after(() => client.end(true));
  await online(d.socketPath);
  const ask = async (name: string, body: object, props?: { responseTopic: string; correlationData: Buffer }) => {
    const id = (body as { id?: string }).id;
    await client.publishAsync(`fieldgate/test-gw/req/${name}`, JSON.stringify(body), { qos: 1, ...(props ? { properties: props } : {}) });
    return waitFor(() => got.find((g) => g.body.id === id && !g.body.duplicate), { timeoutMs: 15_000, what: `the answer to ${name} ${id}` });
  };

  const ping = await ask('ping', { id: 'p1' });
  assert.equal(ping.topic, 'fieldgate/test-gw/req/ping/result');
  assert.equal(ping.body.ok, true);
  assert.equal((ping.body.result as { pong: boolean }).pong, true);

  const health = await ask('health', { id: 'h1' }, { responseTopic: 'fieldgate/test-gw/replies/ops', correlationData: Buffer.from('c-9') });
  assert.equal(health.topic, 'fieldgate/test-gw/replies/ops', 'an allowed response topic (under the gateway\'s own prefix)');
  assert.equal(health.correlation, 'c-9');
  assert.equal((health.body.result as StatusSnapshot).gateway, 'test-gw');
  assert.ok(['ok', 'degraded'].includes(String((health.body.result as StatusSnapshot).level)));

  const logs = await ask('logs', { id: 'l1', lines: 5, level: 'info' });
  const lines = (logs.body.result as { lines: string[] }).lines;
  assert.ok(lines.length > 0 && lines.length <= 5);
  assert.ok(lines.every((l) => ['info', 'warn', 'error'].includes((JSON.parse(l) as { level: string }).level)));
  const badLogs = await ask('logs', { id: 'l2', lines: 5000 });
  assert.equal(badLogs.body.ok, false);
  assert.equal(badLogs.body.error, 'lines must be an integer from 1 to 200');

  // trace: the next raw sample through every stage (constant 40 → scale 0..100 → 0..10 = 4).
  const trace = await ask('trace', { id: 't1', sensor: 'tank.level' });
  const tr = trace.body.result as { raw: { value: number }; stages: { stage: string; value: number }[]; output: { value: number } };
  assert.equal(tr.raw.value, 40);
  assert.deepEqual(tr.stages.map((s) => [s.stage, s.value]), [['scale', 4]]);
  assert.equal(tr.output.value, 4);

  const unknown = await ask('reboot', { id: 'u1' });
  assert.match(unknown.body.error ?? '', /^unknown request "reboot"; requests: ping, health, logs, trace, alarm\.ack, deploy, deploy\.confirm$/);

  // The same id again: answered with the first answer, marked duplicate.
  await client.publishAsync('fieldgate/test-gw/req/ping', JSON.stringify({ id: 'p1' }), { qos: 1 });
  await waitFor(() => got.find((g) => g.body.id === 'p1' && g.body.duplicate), { what: 'the duplicate answer' });

  // A response topic elsewhere (another gateway's command topic) is refused, answered on the default topic.
  await client.publishAsync('fieldgate/test-gw/req/ping', JSON.stringify({ id: 'p2' }), { qos: 1, properties: { responseTopic: 'fieldgate/other-gw/cmd/valve', correlationData: Buffer.from('x') } });
  const refused = await waitFor(() => got.find((g) => g.topic === 'fieldgate/test-gw/req/ping/result' && /not allowed/.test(g.body.error ?? '')), { what: 'the refusal' });
  assert.match(refused.body.error ?? '', /response topic "fieldgate\/other-gw\/cmd\/valve" is not allowed/);
  await d.stop('SIGTERM');
});

test('a retained desired-state command is reconciled after a restart: re-applied when the actuator differs, answered as it is when equal', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-desired-');
  let d = startDaemon({ config: CONFIG(broker.url, false), dir });
  t.after(() => d.kill());
  const { client, got } = await cloudClient(broker.url);
  t.after(() => client.end(true));
  await online(d.socketPath);
  const pump = async () => ((await controlRequest(d.socketPath, 'status').catch(() => undefined)) as StatusSnapshot | undefined)?.actuators.find((a) => a.id === 'pump');

  // The backend's desired state: retained.
  await client.publishAsync('fieldgate/test-gw/cmd/pump', JSON.stringify({ id: 'want-on', value: true }), { qos: 1, retain: true });
  await waitFor(() => got.find((g) => g.body.id === 'want-on' && g.body.status === 'applied'), { what: 'applied' });
  assert.equal((await pump())?.value, true);

  // Restart: the pump starts at its initial value (off); the retained command comes again and is applied again.
  assert.equal(await d.stop('SIGTERM'), 0);
  got.length = 0;
  d = startDaemon({ config: CONFIG(broker.url, false), dir });
  t.after(() => d.kill());
  const again = await waitFor(() => got.find((g) => g.body.id === 'want-on' && g.body.status === 'applied'), { timeoutMs: 20_000, what: 'reconciled after the restart' });
  assert.notEqual(again.body.duplicate, true, 'a real write, not the old answer');
  await waitFor(async () => (await pump())?.value === true, { what: 'pump on again' });

  // Restart with the pump already on (initial: true): the retained command is answered as it is, not re-applied.
  assert.equal(await d.stop('SIGTERM'), 0);
  got.length = 0;
  d = startDaemon({ config: CONFIG(broker.url, true), dir });
  t.after(() => d.kill());
  const same = await waitFor(() => got.find((g) => g.body.id === 'want-on'), { timeoutMs: 20_000, what: 'the answer after the second restart' });
  assert.equal(same.body.duplicate, true);
  assert.equal(same.body.applied, true);
  await client.publishAsync('fieldgate/test-gw/cmd/pump', '', { qos: 1, retain: true }); // clear the retained command
  await d.stop('SIGTERM');
});
