import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { serviceEnvironment } from '../../scripts/service-env';

const ROOT = path.resolve(__dirname, '../..');
const SENSORS = 10_000;

// 10 000 sensors with 4-stage pipelines, each a constant raw value i: scale maps
// raw 0..10 000 to 0..100, so sensor i reads i / 100 after round (2 decimals).
function config(broker: string): string {
  const lines = [`gateway: { id: big-gw }`, `uplink: { brokers: [${broker}], batch: { maxReadings: 1000, maxDelay: 50ms } }`, 'drivers:', '  - kind: sim', '    id: sim', '    sensors:'];
  for (let i = 0; i < SENSORS; i++) {
    lines.push(
      `      - id: s${i}`,
      '        waveform: constant',
      `        value: ${i}`,
      '        interval: 1h',
      '        pipeline:',
      '          - { kind: range, min: 0, max: 10000 }',
      '          - { kind: scale, rawMin: 0, rawMax: 10000, min: 0, max: 100 }',
      '          - { kind: deadband, threshold: 0.01, maxInterval: 1h }',
      '          - { kind: round, decimals: 2 }',
    );
  }
  return lines.join('\n') + '\n';
}

test('10 000 sensors with 4-stage pipelines start under the unit heap limits and every sensor reaches the broker', { timeout: 120_000 }, async (t) => {
  const env = serviceEnvironment(ROOT);
  assert.match(env.NODE_OPTIONS ?? '', /--max-old-space-size=\d+/, 'the unit bounds the V8 heap');
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, 'fieldgate/big-gw/data', 'fieldgate/big-gw/');
  t.after(() => rec.close());
  const text = config(broker.url);
  assert.ok(text.length > 3_000_000, `a config of ${text.length} bytes`);
  const d = startDaemon({ config: text, env });
  t.after(() => d.kill());

  const running = await d.waitLog((l) => l.msg === 'fieldgate running', 60_000, 'fieldgate running');
  assert.equal(running.sensors, SENSORS);
  // Every sensor samples once at start: 10 000 readings, one per sensor.
  const latest = await waitFor(
    () => {
      const bySensor = new Map(rec.readings().map((r) => [r[0], r[2]]));
      return bySensor.size === SENSORS ? bySensor : undefined;
    },
    { timeoutMs: 60_000, what: `readings of all ${SENSORS} sensors` },
  );
  assert.equal(latest.get('s0'), 0);
  assert.equal(latest.get('s1'), 0.01);
  assert.equal(latest.get('s4321'), 43.21);
  assert.equal(latest.get('s9999'), 99.99);
  // Still alive (a heap abort would have ended it), and it stops cleanly.
  assert.equal(d.proc.exitCode, null);
  const peakKB = Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${d.proc.pid}/status`, 'utf8'))?.[1]);
  t.diagnostic(`peak RSS ${Math.round(peakKB / 1024)} MB (under tsx; the built daemon uses less)`);
  assert.equal(await d.stop('SIGTERM'), 0);
  assert.equal(d.stderr.join('').includes('heap out of memory'), false);
});
