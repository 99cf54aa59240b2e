import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from 'mqtt';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon } from '../helpers/daemon';

const ROOT = path.resolve(__dirname, '../..');

test('the demo config runs end to end: data within 5 s, retained online, health with outbox and drivers', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const base = 'fieldgate/demo-gw/';
  const rec = await record(broker.url, `${base}#`, base);
  t.after(() => rec.close());
  const config = fs.readFileSync(path.join(ROOT, 'config/demo.yaml'), 'utf8').replace('mqtt://127.0.0.1:1883', broker.url);
  assert.ok(config.includes(broker.url), 'broker URL substituted');
  const started = Date.now();
  const d = startDaemon({ config, rulesDir: path.join(ROOT, 'rules') });
  t.after(() => d.kill());

  // The first data message is the uplink's delivery probe (an empty batch); wait for readings.
  await rec.waitFor('data', (m) => decodeBatch(m.payload).r.length > 0, 5_000);
  t.diagnostic(`first data after ${Date.now() - started} ms`);
  const sensors = new Set(rec.readings().map((r) => r[0]));
  assert.ok(sensors.has('furnace.temp') && sensors.has('demo.counter'), `sensors seen: ${[...sensors].join(', ')}`);

  const health = JSON.parse((await rec.waitFor('health', () => true, 5_000)).payload.toString()) as {
    outbox: { depth: number; evicted: number };
    drivers: { id: string; state: string }[];
    sensors: Record<string, unknown>;
    uptimeS: number;
  };
  assert.equal(typeof health.outbox.depth, 'number');
  assert.equal(health.outbox.evicted, 0);
  assert.deepEqual(health.drivers.map((x) => [x.id, x.state]), [['sim', 'running']]);
  assert.ok('furnace.temp' in health.sensors);

  // A client arriving now sees the retained status "online".
  const late = connect(broker.url, { reconnectPeriod: 0 });
  t.after(() => late.end(true));
  const status = await new Promise<{ payload: string; retain: boolean }>((resolve) => {
    late.on('message', (_t, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }));
    late.once('connect', () => void late.subscribeAsync(`${base}status`, { qos: 1 }));
  });
  assert.deepEqual(status, { payload: 'online', retain: true });
  // The shipped rules loaded without errors.
  assert.ok(rec.on('events').some((m) => JSON.parse(m.payload.toString()).type === 'rules.loaded'), 'rules.loaded event');
  assert.equal(await d.stop('SIGTERM'), 0);
});
