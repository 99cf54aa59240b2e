import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { daemonStatus, simPumpConfig, startCloud, waitOnline, type Cloud } from './command-harness';

const FILTERS = ['fieldgate/gw/cmd/+/result', 'fieldgate/gw/health'];

/**
 * The daemon reports online before its SUBSCRIBE for cmd/+ is sent; a command
 * published in between is lost (no subscription yet). Its first heartbeat is
 * sent after the SUBSCRIBE on the same connection, so once the cloud has it,
 * the broker has the subscription.
 */
async function waitSubscribed(cloud: Cloud, socketPath: string): Promise<void> {
  await waitOnline(socketPath);
  await waitFor(() => cloud.got.some((m) => m.topic === 'fieldgate/gw/health'), { timeoutMs: 15_000, what: 'the first heartbeat (commands subscribed)' });
}

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
  const cloud = await startCloud(t, broker.url, FILTERS);
  const first = startDaemon({ config, dir });
  t.after(() => first.kill());
  await waitSubscribed(cloud, first.socketPath);
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


/**
 * Upgrading from the gateway that kept ids in commands.json: the daemon imports
 * them at start, so a cloud retry of a pre-upgrade id is answered as a duplicate
 * and the pump is not switched again.
 */
test('a retry of an id from the pre-upgrade commands.json is answered and not applied again', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-cmd-upgrade-');
  const stateDir = path.join(dir, 'state');
  fs.mkdirSync(stateDir, { recursive: true });
  const ts = Date.now() - 60_000;
  fs.writeFileSync(path.join(stateDir, 'commands.json'), JSON.stringify([['pump\u0000before-upgrade', { id: 'before-upgrade', ok: true, applied: true, ts }]]));
  const cloud = await startCloud(t, broker.url, FILTERS);
  const daemon = startDaemon({ config: simPumpConfig(broker.url), dir });
  t.after(() => daemon.kill());
  await waitSubscribed(cloud, daemon.socketPath);
  await cloud.send('pump', { id: 'before-upgrade', value: true });
  assert.deepEqual(await cloud.final('before-upgrade'), { id: 'before-upgrade', ok: true, status: 'applied', final: true, applied: true, ts, duplicate: true });
  const pump = (await daemonStatus(daemon.socketPath))?.actuators.find((a) => a.id === 'pump');
  assert.equal(pump?.value, undefined, 'the sim pump was never written');
  assert.deepEqual(fs.readdirSync(stateDir).filter((f) => f.startsWith('commands.json')), ['commands.json.migrated']);
  assert.equal(await daemon.stop('SIGTERM'), 0);
});
