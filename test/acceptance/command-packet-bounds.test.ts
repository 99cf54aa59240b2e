import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

/**
 * Bounds at the door, seen from an outside MQTT client through Mosquitto: on
 * MQTT 5 the daemon announces maximumPacketSize and the broker never delivers a
 * bigger command; on MQTT 3.1.1 an oversize command is answered and counted.
 * Response topics outside the gateway's own tree get the result on the default
 * topic with an error, never on the named topic.
 */
const CONFIG = (broker: string, protocolVersion: 4 | 5) => `gateway: { id: gw }
uplink: { brokers: [${broker}], protocolVersion: ${protocolVersion}, heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true }
`;

interface Result {
  id: string;
  ok?: boolean;
  status: string;
  final: boolean;
  error?: string;
}

async function setup(t: import('node:test').TestContext, protocolVersion: 4 | 5) {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: CONFIG(broker.url, protocolVersion) });
  t.after(() => d.kill());
  const cloud = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => cloud.end(true));
  const got: { topic: string; body: Result }[] = [];
  cloud.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Result }));
  await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
  // Everywhere a result could land: the result topics, the gateway's own tree, another gateway's, elsewhere.
  await cloud.subscribeAsync(['fieldgate/gw/cmd/+/result', 'fieldgate/gw/replies/#', 'fieldgate/other-gw/#', 'elsewhere/#'], { qos: 1 });
  type Status = { uplink: { state: string; commands: number; reconnects: number }; commands: Record<string, number> };
  const status = async () => (await controlRequest(d.socketPath, 'status')) as Status;
  await waitFor(async () => (await status().catch(() => undefined))?.uplink.state === 'online', { timeoutMs: 15_000, what: 'the daemon online' });
  const results = () => got;
  return { cloud, status, results };
}

test('MQTT 5: an oversize command never reaches the daemon; the connection stays up', { timeout: 60_000 }, async (t) => {
  const { cloud, status, results } = await setup(t, 5);
  await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id: 'big', value: true, pad: 'p'.repeat(40_000) }), { qos: 1 });
  await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id: 'after', value: true }), { qos: 1 });
  await waitFor(() => results().find((m) => m.body.id === 'after' && m.body.final), { what: 'the result of the next command' });
  const s = await status();
  assert.equal(s.uplink.commands, 1, 'only the small command was delivered');
  assert.equal(s.uplink.reconnects, 0);
  assert.deepEqual(results().map((m) => m.body.id), ['after']);
});

test('MQTT 3.1.1: an oversize command is answered "payload too large" and counted', { timeout: 60_000 }, async (t) => {
  const { cloud, status, results } = await setup(t, 4);
  await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id: 'big', value: true, pad: 'p'.repeat(40_000) }), { qos: 1 });
  const r = await waitFor(() => results().find((m) => m.body.status === 'rejected'), { what: 'the rejection' });
  assert.match(r.body.error ?? '', /^payload too large \(40\d{3} bytes; limit 16384\)$/);
  assert.equal((await status()).commands.rejected, 1);
});

test('a response topic outside the gateway is refused; the error goes to the default result topic', { timeout: 60_000 }, async (t) => {
  const { cloud, results } = await setup(t, 5);
  for (const [id, responseTopic] of [
    ['r1', 'elsewhere/steal'],
    ['r2', 'fieldgate/other-gw/cmd/valve'],
    ['r3', 'fieldgate/gw/cmd/pump'],
    ['r4', 'fieldgate/gw/replies/r4'],
  ]) {
    await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id, value: true }), { qos: 1, properties: { responseTopic } });
  }
  await waitFor(() => results().find((m) => m.body.id === 'r4' && m.body.final), { what: 'the result of r4' });
  await waitFor(() => results().filter((m) => m.body.status === 'rejected').length === 3, { what: 'three rejections' });
  assert.deepEqual(
    results().map((m) => [m.body.id, m.topic, m.body.status, m.body.error]),
    [
      ['', 'fieldgate/gw/cmd/pump/result', 'rejected', 'response topic "elsewhere/steal" is not allowed (allowed: fieldgate/gw/#)'],
      ['', 'fieldgate/gw/cmd/pump/result', 'rejected', 'response topic "fieldgate/other-gw/cmd/valve" is not allowed (allowed: fieldgate/gw/#)'],
      ['', 'fieldgate/gw/cmd/pump/result', 'rejected', 'response topic "fieldgate/gw/cmd/pump" is one of this gateway\'s command topics'],
      ['r4', 'fieldgate/gw/replies/r4', 'applied', undefined],
    ],
  );
});
