import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { SensorRow, StatusSnapshot } from '../../src/daemon/view';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

// Issue 10, case 2: a tank level with `average` then `deadband 0.5` delivering a sample
// every 200 ms must not look stale because the deadband has nothing new to report.
const CONFIG = (broker: string) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: sim
    id: sim
    outputs: { valve: 0 }
    sensors:
      - id: tank.level
        waveform: constant
        value: 42
        interval: 200ms
        maxAge: 1s
        pipeline:
          - { kind: average, samples: 4 }
          - { kind: deadband, threshold: 0.5 }
actuators:
  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100, initial: 0, failsafe: 0 }
`;

const RULE = `rules:
  - id: tank-fill
    when: tank.level < 50
    then:
      - set: { actuator: valve, value: 30 }
`;

test('report-by-exception is not silence: a deadband sensor sampled every 200 ms stays fresh and its rule never fails safe', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const dir = tempDir('fg-stale-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'tank.yaml'), RULE);
  const d = startDaemon({ config: CONFIG(broker.url), dir, rulesDir });
  t.after(() => d.kill());

  const valve = async () => ((await controlRequest(d.socketPath, 'status').catch(() => undefined)) as StatusSnapshot | undefined)?.actuators.find((a) => a.id === 'valve');
  await waitFor(async () => (await valve())?.value === 30, { timeoutMs: 10_000, what: 'the valve opened to 30 by the rule' });
  // The constant 42 leaves the deadband once; every later sample is held back. Watch four
  // maxAge periods (the old code applied the failsafe 1 s after the only reading).
  const until = Date.now() + 4_000;
  while (Date.now() < until) {
    const sensor = ((await controlRequest(d.socketPath, 'sensors')) as SensorRow[]).find((s) => s.id === 'tank.level');
    assert.equal(sensor?.stale, false, 'tank.level is not stale while its driver delivers samples');
    assert.equal((await valve())?.value, 30, 'the valve is not forced to its failsafe');
    await new Promise((r) => setTimeout(r, 250));
  }
  const events = rec.on('events').map((m) => JSON.parse(m.payload.toString()) as { type: string });
  assert.equal(events.filter((e) => e.type === 'failsafe').length, 0, 'no failsafe event');
  const published = rec.readings().filter((r) => r[0] === 'tank.level');
  assert.ok(published.length <= 2, `report by exception: ${published.length} reading(s) published for a constant level`);
  await d.stop('SIGTERM');
});
