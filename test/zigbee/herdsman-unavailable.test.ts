import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ZigbeeDriver } from '../../drivers/zigbee';
import { zigbeeDriverSchema } from '../../drivers/zigbee/schema';
import { recordingContext } from '../ble/driver-context';

test('real zigbee-herdsman with no adapter at the configured path: start() resolves, health shows the error, retries with backoff', async (t) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-zb-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const r = recordingContext('zb0');
  const ctx = { ...r.ctx, stateDir };
  const port = path.join(stateDir, 'ttyACM-absent');
  const config = zigbeeDriverSchema.parse({ kind: 'zigbee', id: 'zb0', adapter: { type: 'zstack', path: port }, retry: { initial: '5s', max: '1m' } });
  const driver = new ZigbeeDriver(config, ctx, { random: () => 1 });
  t.after(() => driver.stop());

  await driver.start();
  const h = driver.health() as { state: string; available: boolean; lastError: string; failures: number; nextRetryInMs: number };
  assert.equal(h.state, 'backoff');
  assert.equal(h.available, false);
  assert.match(h.lastError, new RegExp(`no Zigbee adapter at ${port.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  assert.equal(h.failures, 1);
  assert.equal(h.nextRetryInMs, 5000);
  assert.equal(r.errors.length, 1);

  // The network key was created in the state dir, 0600, and never logged.
  const keyFile = path.join(stateDir, 'network-key');
  assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
  const key = fs.readFileSync(keyFile, 'utf8').trim();
  assert.ok(!JSON.stringify(r.log.lines).includes(key), 'the network key never appears in the logs');

  // The retry runs on the injected clock and fails the same way, with a doubled delay.
  await r.clock.advanceAsync(5000);
  const deadline = Date.now() + 10_000;
  while ((driver.health() as { failures: number }).failures < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  const h2 = driver.health() as { state: string; failures: number; nextRetryInMs: number };
  assert.equal(h2.failures, 2);
  assert.equal(h2.state, 'backoff');
  assert.equal(h2.nextRetryInMs, 10_000);
  await driver.stop();
  assert.equal(r.clock.pending(), 0);
});
