import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { daemonStatus, simPumpConfig, startCloud, waitOnline } from './command-harness';

/**
 * Precedence a site can trust: `fieldgate actuate` (a real CLI process) sets a
 * local hold that cloud commands (an outside MQTT client) cannot replace or
 * release; `fieldgate actuate ACTUATOR --release` drops it.
 */
const ROOT = path.resolve(__dirname, '../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');

function fieldgate(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

test('a local hold outranks the cloud; only the CLI releases it', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: simPumpConfig(broker.url, '', ', initial: false') });
  t.after(() => d.kill());
  const cloud = await startCloud(t, broker.url);
  await waitOnline(d.socketPath);

  const on = await fieldgate(['actuate', 'pump', 'on', '--socket', d.socketPath]);
  assert.equal(on.code, 0, on.err);
  assert.match(on.out, /^pump = true: applied; held by local:local-\d+-1 \(command local-\d+-1\)\n$/);

  await cloud.send('pump', { id: 'c1', value: false });
  assert.match((await cloud.final('c1')).error ?? '', /^blocked by local hold local:local-\d+-1$/);
  await cloud.send('pump', { id: 'c2', release: true });
  assert.equal((await cloud.final('c2')).error, 'nothing to release: "pump" has no cloud hold');
  const held = (await daemonStatus(d.socketPath))?.actuators.find((a) => a.id === 'pump');
  assert.match(held?.owner ?? '', /^local:/);
  assert.equal(held?.value, true);

  const rel = await fieldgate(['actuate', 'pump', '--release', '--socket', d.socketPath]);
  assert.equal(rel.code, 0, rel.err);
  assert.match(rel.out, /^pump: local hold released, now (true|false) \(command local-\d+-2\)\n$/);
  await cloud.send('pump', { id: 'c3', value: true });
  const c3 = await cloud.final('c3');
  assert.deepEqual([c3.status, c3.owner], ['applied', 'cmd:c3']);
  const again = await fieldgate(['actuate', 'pump', '--release', '--socket', d.socketPath]);
  assert.equal(again.code, 1);
  assert.match(again.out, /^pump: release: rejected: nothing to release: "pump" has no local hold/);
  await d.stop('SIGTERM');
});
