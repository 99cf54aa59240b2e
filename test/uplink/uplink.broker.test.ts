/** The uplink against a real Mosquitto: birth/LWT/offline, draining, heartbeat, commands. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, retained, waitOnline, waitVerified } from './harness';
import { startProxy } from './tcp-proxy';

test('after CONNACK the status topic holds a retained "online"', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { uplink } = makeUplink(t, { brokers: [broker.url] });
  uplink.start();
  await waitOnline(uplink);
  await waitFor(async () => (await retained(broker.url, 'fieldgate/gw1/status')) === 'online', { what: 'retained online' });
});

test('a connection cut without DISCONNECT leaves the retained "offline" last will', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port });
  t.after(() => proxy.close());
  const clock = new VirtualClock(); // no reconnect until the test advances it
  const { uplink } = makeUplink(t, { brokers: [proxy.url], clock });
  uplink.start();
  await waitOnline(uplink);
  await waitFor(async () => (await retained(broker.url, 'fieldgate/gw1/status')) === 'online');
  proxy.cutAll();
  await waitFor(() => uplink.state === 'backoff', { what: 'backoff' });
  await waitFor(async () => (await retained(broker.url, 'fieldgate/gw1/status')) === 'offline', { what: 'will published' });
});

test('a clean stop publishes retained "offline" and clears every timer', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const clock = new VirtualClock();
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], clock, uplink: { heartbeat: '10s' } });
  uplink.start();
  await waitOnline(uplink);
  await uplink.stop();
  outbox.flush();
  assert.equal(uplink.state, 'idle');
  assert.equal(await retained(broker.url, 'fieldgate/gw1/status'), 'offline');
  assert.equal(clock.pending(), 0, 'no timer left behind');
});

test('the outbox drains in order, in batches, and rows are deleted only after PUBACK', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port });
  t.after(() => proxy.close());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
  const { uplink, outbox } = makeUplink(t, { brokers: [proxy.url], uplink: { batch: { maxReadings: 500, maxDelay: '20ms' } } });
  uplink.start();
  await waitVerified(uplink);
  proxy.holdDownstream(); // PUBACKs from now on are held in the proxy
  for (let i = 0; i < 1200; i++) outbox.add(reading(`s${i % 7}`, 1000 + i, i));
  outbox.flush();
  // 1200 readings in batches of at most 500: 500 + 500 + 200.
  await waitFor(() => got.length === 3, { what: 'three data messages at the subscriber' });
  assert.equal(outbox.stats().depth, 1200, 'published but unacknowledged rows are still stored');
  proxy.releaseDownstream();
  await waitFor(() => outbox.stats().depth === 0, { what: 'rows deleted after PUBACK' });
  const batches = got.map((m) => decodeBatch(m.payload));
  assert.deepEqual(
    batches.map((b) => b.r.length),
    [500, 500, 200],
  );
  const values = batches.flatMap((b) => b.r.map((r) => r[2]));
  assert.deepEqual(
    values,
    Array.from({ length: 1200 }, (_, i) => i),
  );
  assert.deepEqual(batches[0].r[8], ['s1', 1008, 8, 0, 0]);
  assert.equal(uplink.stats().ackedRows, 1200);
});

test('broker stopped and restarted: every reading arrives, in order, none missing', async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data'], { clientId: 'observer', clean: false, properties: { sessionExpiryInterval: 600 } });
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url] });
  uplink.start();
  await waitOnline(uplink);
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i++) outbox.add(reading('flow', i, i));
    outbox.flush();
  };
  add(0, 100);
  await waitFor(() => outbox.stats().depth === 0);
  await broker.stop();
  await waitFor(() => uplink.state !== 'online');
  add(100, 300); // stored while offline
  await broker.restart();
  await waitOnline(uplink);
  add(300, 400);
  const firstSeen = () => {
    const seen = new Map<number, number>();
    for (const m of got) for (const [, ts, , , flags] of decodeBatch(m.payload).r) if (!seen.has(ts)) seen.set(ts, flags);
    return seen;
  };
  await waitFor(() => firstSeen().size === 400, { timeoutMs: 8000, what: '400 distinct readings' });
  const seen = firstSeen();
  assert.deepEqual(
    [...seen.keys()],
    Array.from({ length: 400 }, (_, i) => i),
    'first arrivals are in order',
  );
  assert.ok([...seen.entries()].filter(([ts]) => ts >= 100 && ts < 300).every(([, flags]) => flags === 1), 'stored while offline → REPLAYED');
  assert.ok([...seen.entries()].filter(([ts]) => ts < 100 || ts >= 300).every(([, flags]) => flags === 0), 'live → no flag');
  await waitFor(() => outbox.stats().depth === 0);
  assert.equal(uplink.stats().reconnects, 1);
});

test('heartbeats carry the health document and uplink stats', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/health']);
  const { uplink } = makeUplink(t, { brokers: [broker.url], uplink: { heartbeat: '100ms' }, health: () => ({ drivers: { sim: 'running' } }) });
  uplink.start();
  await waitFor(() => got.length >= 3, { what: 'three heartbeats' });
  const hb = JSON.parse(got[1].payload.toString()) as Record<string, unknown>;
  assert.equal(hb.gw, 'gw1');
  assert.deepEqual(hb.drivers, { sim: 'running' });
  assert.equal((hb.uplink as { state: string }).state, 'online');
  assert.equal(got[1].retain, false);
});

test('commands reach the handler with MQTT 5 response properties; result topics do not', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { uplink } = makeUplink(t, { brokers: [broker.url] });
  const calls: Array<[string, string, string | undefined, string | undefined]> = [];
  uplink.onCommand((actuator, payload, meta) => calls.push([actuator, payload.toString(), meta.responseTopic, meta.correlationData?.toString()]));
  uplink.start();
  await waitOnline(uplink);
  const { client } = await observe(t, broker.url, []);
  await waitFor(async () => {
    // the subscription is made right after CONNACK; publish until it is in place
    if (calls.length === 0) await client.publishAsync('fieldgate/gw1/cmd/probe', 'x', { qos: 1 });
    return calls.length > 0;
  });
  calls.length = 0;
  await client.publishAsync('fieldgate/gw1/cmd/valve1/result', '{"ok":true}', { qos: 1 });
  await client.publishAsync('fieldgate/gw2/cmd/valve1', 'not ours', { qos: 1 });
  await client.publishAsync('fieldgate/gw1/cmd/valve1', '{"set":"open"}', {
    qos: 1,
    properties: { responseTopic: 'fieldgate/gw1/cmd/valve1/result', correlationData: Buffer.from('c-42') },
  });
  await waitFor(() => calls.length >= 1);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(calls, [['valve1', '{"set":"open"}', 'fieldgate/gw1/cmd/valve1/result', 'c-42']]);
});

test('events and results from the outbox go to their own topics with their retain flag', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/events', 'fieldgate/gw1/cmd/+/result']);
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url] });
  uplink.start();
  await waitOnline(uplink);
  outbox.addMessage({ topic: 'fieldgate/gw1/events', payload: '{"alarm":"high"}', priority: 'event' });
  outbox.addMessage({ topic: 'fieldgate/gw1/cmd/valve1/result', payload: '{"ok":true}', priority: 'result' });
  await waitFor(() => got.length === 2);
  assert.deepEqual(
    got.map((m) => [m.topic, m.payload.toString()]),
    [
      ['fieldgate/gw1/events', '{"alarm":"high"}'],
      ['fieldgate/gw1/cmd/valve1/result', '{"ok":true}'],
    ],
  );
  await waitFor(() => outbox.stats().messages === 0);
});
