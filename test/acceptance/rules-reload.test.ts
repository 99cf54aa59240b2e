import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { RuleRow } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

const CONFIG = (broker: string) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: tank.level, waveform: constant, value: 5, interval: 200ms } ]
`;

const rule = (id: string, when: string) => `rules:\n  - id: ${id}\n    when: ${when}\n    then:\n      - event: { severity: warning, message: "${id} fired" }\n`;

interface Ev {
  type: string;
  source: string;
  message: string;
  details?: { problems?: string[] };
}

test('rule files are hot-reloaded within 2 s; a broken set is rejected whole and the old rules keep running', { timeout: 40_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const dir = tempDir('fg-reload-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  const d = startDaemon({ config: CONFIG(broker.url), dir, rulesDir });
  t.after(() => d.kill());
  const events = () => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);
  const rules = async () => ((await controlRequest(d.socketPath, 'rules')) as RuleRow[]).map((r) => r.id).sort();
  await waitFor(() => events().some((e) => e.type === 'rules.loaded'), { timeoutMs: 10_000, what: 'the first (empty) load' });

  // Add a file: it takes effect (and fires on the constant level 5) within 2 s.
  let t0 = Date.now();
  fs.writeFileSync(path.join(rulesDir, 'low.yaml'), rule('tank-low', 'tank.level < 10'));
  await waitFor(() => events().some((e) => e.type === 'alarm' && e.source === 'tank-low'), { timeoutMs: 5_000, what: 'tank-low firing' });
  assert.ok(Date.now() - t0 < 2_500, `added rule active after ${Date.now() - t0} ms`);
  assert.deepEqual(await rules(), ['tank-low']);

  // A broken second file: the whole set is rejected, with FILE:LINE:COL (line 3 "    when: " → column 11),
  // and tank-low keeps running.
  fs.writeFileSync(path.join(rulesDir, 'typo.yaml'), rule('tank-typo', 'tank.levl < 10'));
  const rejected = await waitFor(() => events().find((e) => e.type === 'rules.rejected'), { timeoutMs: 5_000, what: 'the rejection event' });
  assert.match(rejected.details?.problems?.[0] ?? '', /typo\.yaml:3:11: unknown sensor "tank\.levl"/);
  assert.deepEqual(await rules(), ['tank-low'], 'the previous set keeps running');
  const status = (await controlRequest(d.socketPath, 'status')) as { healthy: boolean; rules: { lastReloadError?: string } };
  assert.equal(status.healthy, false);
  assert.match(status.rules.lastReloadError ?? '', /tank\.levl/);

  // Fix it: both rules load together; delete one: it is gone within 2 s.
  fs.writeFileSync(path.join(rulesDir, 'typo.yaml'), rule('tank-typo', 'tank.level < 10'));
  await waitFor(async () => (await rules()).length === 2, { timeoutMs: 3_000, what: 'the fixed set' });
  t0 = Date.now();
  fs.rmSync(path.join(rulesDir, 'low.yaml'));
  await waitFor(async () => (await rules()).join() === 'tank-typo', { timeoutMs: 3_000, what: 'the deleted rule gone' });
  assert.ok(Date.now() - t0 < 2_500, `deletion effective after ${Date.now() - t0} ms`);
  await d.stop('SIGTERM');
});
