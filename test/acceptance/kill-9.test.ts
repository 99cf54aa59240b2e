import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { connect } from 'mqtt';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema } from '../../src/outbox/schema';
import { decodeBatch, type WireReading } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { counterConfig } from './sim-config';

/** Every payload published on the gateway's status topic, in order. */
async function statusWatcher(t: TestContext, url: string): Promise<string[]> {
  const watcher = connect(url, { reconnectPeriod: 0 });
  t.after(() => watcher.end(true));
  const status: string[] = [];
  watcher.on('message', (_topic, payload) => status.push(payload.toString()));
  await new Promise<void>((resolve) => watcher.once('connect', () => resolve()));
  await watcher.subscribeAsync('fieldgate/test-gw/status', { qos: 1 });
  return status;
}

async function persistentRecorder(url: string, clientId: string) {
  const client = connect(url, { clientId, clean: false, reconnectPeriod: 100, protocolVersion: 4 });
  const readings: WireReading[] = [];
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/data')) readings.push(...decodeBatch(payload).r);
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync('fieldgate/test-gw/data', { qos: 1 });
  return { readings, close: () => client.endAsync(true) };
}

test('daemon killed with SIGKILL mid-stream: every reading committed before the kill arrives after the restart', { timeout: 60_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.kill());
  const rec = await persistentRecorder(broker.url, 'kill9-recorder');
  t.after(() => rec.close());
  const dir = tempDir('fg-kill9-');
  // 5 ms samples so plenty is committed but not yet acknowledged at any moment.
  const config = counterConfig({ broker: broker.url, interval: '5ms' });
  const first = startDaemon({ config, dir });
  t.after(() => first.kill());
  await waitFor(() => rec.readings.length >= 100, { timeoutMs: 10_000, what: '100 readings before the kill' });
  // Take the broker away so a backlog builds up in the outbox, then kill mid-stream.
  await broker.stop();
  await new Promise((r) => setTimeout(r, 1000));
  await first.kill();

  // What the outbox had committed and not yet deleted at the moment of the kill.
  const ob = new Outbox({ path: path.join(dir, 'state/outbox.db'), config: outboxSchema.parse({}), clock: new VirtualClock(), log: silentLogger });
  const committed = ob.peekReadings(0, 1_000_000).map((r) => `${r.ts}:${r.value}`);
  ob.close();
  const receivedBefore = new Set(rec.readings.map((r) => `${r[1]}:${r[2]}`));
  t.diagnostic(`${receivedBefore.size} readings received before the kill, ${committed.length} committed but unacknowledged`);
  assert.ok(committed.length >= 50, `a backlog was committed before the kill (${committed.length})`);
  await broker.restart();

  const second = startDaemon({ config, dir });
  t.after(() => second.kill());
  await waitFor(
    () => {
      const got = new Set(rec.readings.map((r) => `${r[1]}:${r[2]}`));
      return committed.every((k) => got.has(k));
    },
    { timeoutMs: 15_000, what: 'every committed reading after the restart' },
  );
  // Together, what arrived before the kill and what was still committed cover the
  // counter from 0 without a gap: nothing committed was lost in between.
  const all = new Set([...receivedBefore, ...committed]);
  const firstRun = [...all].map((k) => Number(k.split(':')[1])).sort((a, b) => a - b);
  firstRun.forEach((v, i) => assert.equal(v, i, `gap in the first run's counter at ${i}`));
  await second.stop('SIGTERM');
});

test('killing the daemon with SIGKILL makes the broker publish the retained offline Last Will', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: counterConfig({ broker: broker.url, interval: '100ms' }) });
  t.after(() => d.kill());
  const status = await statusWatcher(t, broker.url);
  await waitFor(() => status.includes('online'), { timeoutMs: 10_000, what: 'retained online' });
  await d.kill();
  await waitFor(() => status[status.length - 1] === 'offline', { timeoutMs: 10_000, what: 'the Last Will' });
  // Retained: a client arriving later still sees offline.
  const late = connect(broker.url, { reconnectPeriod: 0 });
  t.after(() => late.end(true));
  const retained = await new Promise<{ payload: string; retain: boolean }>((resolve) => {
    late.on('message', (_topic, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain }));
    late.once('connect', () => void late.subscribeAsync('fieldgate/test-gw/status', { qos: 1 }));
  });
  assert.deepEqual(retained, { payload: 'offline', retain: true });
});

test('a clean stop (SIGTERM) publishes offline itself and exits 0', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: counterConfig({ broker: broker.url, interval: '100ms' }) });
  t.after(() => d.kill());
  const status = await statusWatcher(t, broker.url);
  await waitFor(() => status.includes('online'), { timeoutMs: 10_000, what: 'online' });
  assert.equal(await d.stop('SIGTERM'), 0);
  await waitFor(() => status[status.length - 1] === 'offline', { timeoutMs: 5_000, what: 'offline after a clean stop' });
});
