import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { daemonStatus, simPumpConfig, startCloud, waitOnline } from './command-harness';

/**
 * Bounds at the door, seen from an outside MQTT client through Mosquitto: on
 * MQTT 5 the daemon announces maximumPacketSize and the broker never delivers a
 * bigger command; on MQTT 3.1.1 an oversize command is answered and counted.
 * Response topics outside the gateway's own tree get the result on the default
 * topic with an error, never on the named topic.
 */
async function setup(t: TestContext, protocolVersion: 4 | 5) {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: simPumpConfig(broker.url, `, protocolVersion: ${protocolVersion}`) });
  t.after(() => d.kill());
  // Everywhere a result could land: the result topics, the gateway's own tree, another gateway's, elsewhere.
  const cloud = await startCloud(t, broker.url, ['fieldgate/gw/cmd/+/result', 'fieldgate/gw/replies/#', 'fieldgate/other-gw/#', 'elsewhere/#']);
  await waitOnline(d.socketPath);
  const status = async () => (await daemonStatus(d.socketPath))!;
  return { cloud, status, results: () => cloud.got };
}

test('MQTT 5: an oversize command never reaches the daemon; the connection stays up', { timeout: 60_000 }, async (t) => {
  const { cloud, status, results } = await setup(t, 5);
  await cloud.send('pump', { id: 'big', value: true, pad: 'p'.repeat(40_000) });
  await cloud.send('pump', { id: 'after', value: true });
  await waitFor(() => results().find((m) => m.body.id === 'after' && m.body.final), { what: 'the result of the next command' });
  const s = await status();
  assert.equal(s.uplink.commands, 1, 'only the small command was delivered');
  assert.equal(s.uplink.reconnects, 0);
  assert.deepEqual(results().map((m) => m.body.id), ['after']);
});

test('MQTT 3.1.1: an oversize command is answered "payload too large" and counted', { timeout: 60_000 }, async (t) => {
  const { cloud, status, results } = await setup(t, 4);
  await cloud.send('pump', { id: 'big', value: true, pad: 'p'.repeat(40_000) });
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
    await cloud.send('pump', { id, value: true }, { responseTopic });
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
