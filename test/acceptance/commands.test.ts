import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

const CONFIG = (broker: string) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
commands: { responseTopics: ['app/replies/#'] }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true }
  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100 }
`;

interface Result {
  id?: string;
  ok: boolean;
  error?: string;
  applied?: unknown;
  ts: number;
}

test('cloud commands over MQTT 5: response topic and correlation data, a repeated id applied once, clear rejections', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: CONFIG(broker.url) });
  t.after(() => d.kill());
  const cloud = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => cloud.end(true));
  const got: { topic: string; body: Result; correlation?: string }[] = [];
  cloud.on('message', (topic, payload, packet) =>
    got.push({ topic, body: JSON.parse(payload.toString()) as Result, correlation: packet.properties?.correlationData?.toString() }),
  );
  await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
  await cloud.subscribeAsync(['fieldgate/test-gw/cmd/+/result', 'app/replies/#'], { qos: 1 });
  await waitFor(async () => ((await controlRequest(d.socketPath, 'status').catch(() => undefined)) as { uplink?: { state: string } } | undefined)?.uplink?.state === 'online', {
    timeoutMs: 10_000,
    what: 'the daemon online',
  });

  // MQTT 5 request/response: the result goes to the response topic with the correlation data.
  await cloud.publishAsync('fieldgate/test-gw/cmd/pump', JSON.stringify({ id: 'req-1', value: true }), {
    qos: 1,
    properties: { responseTopic: 'app/replies/7', correlationData: Buffer.from('corr-42') },
  });
  const reply = await waitFor(() => got.find((m) => m.topic === 'app/replies/7'), { what: 'the reply on the response topic' });
  assert.equal(reply.correlation, 'corr-42');
  assert.equal(reply.body.id, 'req-1');
  assert.equal(reply.body.ok, true);

  // The same id again (a QoS 1 redelivery or a retry): answered again, not applied again.
  await cloud.publishAsync('fieldgate/test-gw/cmd/pump', JSON.stringify({ id: 'req-2', value: false }), { qos: 1 });
  await cloud.publishAsync('fieldgate/test-gw/cmd/pump', JSON.stringify({ id: 'req-2', value: false }), { qos: 1 });
  await waitFor(() => got.filter((m) => m.body.id === 'req-2').length === 2, { what: 'two answers to req-2' });
  const answers = got.filter((m) => m.body.id === 'req-2').map((m) => m.body as Result & { status?: string; duplicate?: boolean });
  // The redelivery is answered with what is known when it arrives (pending or applied), marked duplicate.
  assert.deepEqual(answers.filter((r) => !r.duplicate).map((r) => r.status), ['applied'], 'one final result for the first delivery');
  assert.equal(answers.filter((r) => r.duplicate).length, 1, 'the redelivery is marked duplicate');
  const status = (await controlRequest(d.socketPath, 'status')) as { drivers: { detail?: { writes?: number } }[] };
  assert.equal(status.drivers[0].detail?.writes, 2, 'pump written twice: on (req-1) and off (req-2 once)');

  // Rejections with a reason, and nothing written.
  const rejected: [string, string, RegExp][] = [
    ['pump', '{not json', /JSON/i],
    ['pump', JSON.stringify({ value: true }), /id/],
    ['nosuch', JSON.stringify({ id: 'x1', value: true }), /unknown actuator/],
    ['valve', JSON.stringify({ id: 'x2', value: 10 }), /cloud/],
    ['pump', JSON.stringify({ id: 'x3', value: 5 }), /true or false|boolean|type/i],
    ['pump', JSON.stringify({ id: 'x4', value: true, expiresAt: Date.now() - 1000 }), /expired/],
  ];
  for (const [actuator, payload] of rejected) await cloud.publishAsync(`fieldgate/test-gw/cmd/${actuator}`, payload, { qos: 1 });
  // One failed answer per rejected command (pump gets four).
  const failures = (a: string) => got.filter((m) => m.topic === `fieldgate/test-gw/cmd/${a}/result` && m.body.ok === false).length;
  const expectedFailures = (a: string) => rejected.filter(([x]) => x === a).length;
  await waitFor(() => rejected.every(([a]) => failures(a) === expectedFailures(a)), { what: 'an answer to every rejected command' });
  for (const [actuator, , reason] of rejected) {
    const answers = got.filter((m) => m.topic === `fieldgate/test-gw/cmd/${actuator}/result` && m.body.ok === false);
    assert.ok(answers.some((m) => reason.test(m.body.error ?? '')), `${actuator}: ${answers.map((m) => m.body.error).join(' | ')} should match ${reason}`);
  }
  const after = (await controlRequest(d.socketPath, 'status')) as { drivers: { detail?: { writes?: number } }[] };
  assert.equal(after.drivers[0].detail?.writes, 2, 'no rejected command wrote anything');
  await d.stop('SIGTERM');
});
