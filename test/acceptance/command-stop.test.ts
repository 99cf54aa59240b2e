import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { simPumpConfig, startCloud, waitOnline } from './command-harness';

/**
 * A command that minOn still defers when the daemon stops gets its final result
 * (committed to the outbox before it is flushed, delivered once the uplink is
 * back), and the next start does not write it.
 */
test('a command pending when the daemon stops is answered "not written: the gateway stopped"', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-cmd-stop-');
  const config = simPumpConfig(broker.url, '', ', minOn: 1h');
  const cloud = await startCloud(t, broker.url);
  const first = startDaemon({ config, dir });
  t.after(() => first.kill());
  await waitOnline(first.socketPath);
  await cloud.send('pump', { id: 'on', value: true });
  assert.equal((await cloud.final('on')).status, 'applied');
  await cloud.send('pump', { id: 'off', value: false });
  const pending = await waitFor(() => cloud.got.find((m) => m.body.id === 'off')?.body, { timeoutMs: 10_000, what: 'the first result of off' });
  assert.equal(pending.status, 'pending');
  assert.equal(await first.stop('SIGTERM'), 0);

  const second = startDaemon({ config, dir });
  t.after(() => second.kill());
  const final = await cloud.final('off', 20_000);
  assert.equal(final.status, 'superseded');
  assert.equal(final.ok, false);
  assert.equal(final.error, 'not written: the gateway stopped');
  assert.equal(cloud.got.filter((m) => m.body.id === 'off').length, 2, 'pending, then exactly one final result');
  await waitOnline(second.socketPath);
  assert.equal(cloud.got.filter((m) => m.body.id === 'off').length, 2, 'the restarted daemon does not answer or apply it again');
  assert.equal(await second.stop('SIGTERM'), 0);
});

