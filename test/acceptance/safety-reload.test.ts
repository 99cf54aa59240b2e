import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { RuleRow, StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { furnaceConfig } from '../helpers/furnace';

const ROOT = path.resolve(__dirname, '../..');

// Issue 10, cases 3 and 5, against a real daemon: a furnace held at ~84 °C (sim `thermal`
// heating 0.05 °C/s) with the shipped furnace-overtemp interlock.
const CONFIG = (broker: string) => furnaceConfig(broker, { start: 84, step: 0.05 });

interface Ev {
  type: string;
  source: string;
  message: string;
  details?: { reason?: string };
}

test('a description edit of an active interlock keeps it; deleting its file clears the alarm (reason: rule removed)', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const dir = tempDir('fg-safety-reload-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  const ruleFile = path.join(rulesDir, 'furnace-overtemp.yaml');
  const shipped = fs.readFileSync(path.join(ROOT, 'rules/furnace-overtemp.yaml'), 'utf8');
  fs.writeFileSync(ruleFile, shipped);
  const d = startDaemon({ config: CONFIG(broker.url), dir, rulesDir });
  t.after(() => d.kill());
  const events = () => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);
  const furnace = async () => ((await controlRequest(d.socketPath, 'status').catch(() => undefined)) as StatusSnapshot | undefined)?.actuators.find((a) => a.id === 'furnace');

  await waitFor(() => events().find((e) => e.type === 'alarm' && e.source === 'furnace-overtemp'), { timeoutMs: 20_000, what: 'the interlock firing' });
  await waitFor(async () => (await furnace())?.value === false, { timeoutMs: 5_000, what: 'furnace cut' });

  // Only the description changes.
  const edited = shipped.replace(/description: .*/, 'description: Burner interlock, reworded by an engineer on site');
  assert.notEqual(edited, shipped, 'the shipped rule has a description to edit');
  fs.writeFileSync(ruleFile, edited);
  await waitFor(() => events().filter((e) => e.type === 'rules.loaded').length >= 2, { timeoutMs: 10_000, what: 'the reload' });
  const until = Date.now() + 6_000; // longer than the rule's for: 5s
  while (Date.now() < until) {
    assert.equal((await furnace())?.value, false, 'the burner stays off across the reload');
    await new Promise((r) => setTimeout(r, 200));
  }
  const rules = (await controlRequest(d.socketPath, 'rules')) as RuleRow[];
  assert.equal(rules.find((r) => r.id === 'furnace-overtemp')?.state, 'active');
  assert.equal(events().filter((e) => e.type === 'alarm').length, 1, 'no second alarm');
  assert.equal(events().filter((e) => e.type === 'alarm.clear').length, 0);

  // Delete the file while the alarm is active: the alarm is cleared, with the reason.
  fs.unlinkSync(ruleFile);
  const clear = await waitFor(() => events().find((e) => e.type === 'alarm.clear' && e.source === 'furnace-overtemp'), { timeoutMs: 10_000, what: 'the alarm cleared' });
  assert.equal(clear.details?.reason, 'rule removed');
  await d.stop('SIGTERM');
});
