import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

/**
 * Issue 11 case 3: commands with a 60 KB actuator name waiting in the broker's
 * persistent session crashed the daemon (heap OOM in the command log) on every
 * start. Here they are queued while the daemon is stopped (MQTT 3.1.1, so the
 * broker delivers them: no maximumPacketSize), and the restarted daemon drops
 * them, counts them, stays up and answers the real command queued behind them.
 */
const CONFIG = (broker: string) => `gateway: { id: gw }
uplink: { brokers: [${broker}], protocolVersion: 4, heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true }
`;

interface Result {
  id: string;
  status: string;
  final: boolean;
}

test('huge actuator names redelivered at start are dropped and counted; the daemon stays up', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-cmd-restart-');
  type Status = { uplink: { state: string }; commands: Record<string, number> };
  const status = (sock: string) => controlRequest(sock, 'status').catch(() => undefined) as Promise<Status | undefined>;

  const first = startDaemon({ config: CONFIG(broker.url), dir });
  t.after(() => first.kill());
  await waitFor(async () => (await status(first.socketPath))?.uplink.state === 'online', { timeoutMs: 15_000, what: 'the daemon online' });
  assert.equal(await first.stop('SIGTERM'), 0);

  const cloud = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => cloud.end(true));
  const got: Result[] = [];
  cloud.on('message', (_topic, payload) => got.push(JSON.parse(payload.toString()) as Result));
  await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
  await cloud.subscribeAsync('fieldgate/gw/cmd/+/result', { qos: 1 });
  const huge = 'a'.repeat(60_000);
  for (let i = 0; i < 173; i++) await cloud.publishAsync(`fieldgate/gw/cmd/${huge}`, JSON.stringify({ id: `h${i}`, value: true }), { qos: 1 });
  await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id: 'real', value: true }), { qos: 1 });

  const second = startDaemon({ config: CONFIG(broker.url), dir });
  t.after(() => second.kill());
  const answer = await waitFor(() => got.find((r) => r.id === 'real' && r.final), { timeoutMs: 20_000, what: 'the real command answered after the restart' });
  assert.equal(answer.status, 'applied');
  const s = await status(second.socketPath);
  assert.equal(s?.commands.dropped, 173);
  assert.equal(got.filter((r) => r.id.startsWith('h')).length, 0, 'no answer on a 60 KB topic');
  assert.equal(second.proc.exitCode, null, 'still running');
  assert.equal(await second.stop('SIGTERM'), 0);
});
