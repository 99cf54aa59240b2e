import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { daemonStatus, simPumpConfig, startCloud, waitOnline } from './command-harness';

/**
 * Issue 11 case 3: commands with a 60 KB actuator name waiting in the broker's
 * persistent session crashed the daemon (heap OOM in the command log) on every
 * start. Here they are queued while the daemon is stopped (MQTT 3.1.1, so the
 * broker delivers them: no maximumPacketSize), and the restarted daemon drops
 * them, counts them, stays up and answers the real command queued behind them.
 */
test('huge actuator names redelivered at start are dropped and counted; the daemon stays up', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-cmd-restart-');
  const config = simPumpConfig(broker.url, ', protocolVersion: 4');
  const first = startDaemon({ config, dir });
  t.after(() => first.kill());
  await waitOnline(first.socketPath);
  assert.equal(await first.stop('SIGTERM'), 0);

  const cloud = await startCloud(t, broker.url);
  const huge = 'a'.repeat(60_000);
  for (let i = 0; i < 173; i++) await cloud.send(huge, { id: `h${i}`, value: true });
  await cloud.send('pump', { id: 'real', value: true });

  const second = startDaemon({ config, dir });
  t.after(() => second.kill());
  assert.equal((await cloud.final('real', 20_000)).status, 'applied');
  assert.equal((await daemonStatus(second.socketPath))?.commands.dropped, 173);
  assert.equal(cloud.got.filter((m) => m.body.id.startsWith('h')).length, 0, 'no answer on a 60 KB topic');
  assert.equal(second.proc.exitCode, null, 'still running');
  assert.equal(await second.stop('SIGTERM'), 0);
});
