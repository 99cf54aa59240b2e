/** A clean stop sends what the outbox holds (within drainOnStop) before the retained "offline". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, retained, waitVerified } from './harness';
import { startProxy } from './tcp-proxy';

test('a clean stop publishes a partial live batch that is still waiting for batch.maxDelay', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
  const clock = new VirtualClock(); // batch.maxDelay never expires unless the test says so
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], clock, uplink: { batch: { maxReadings: 500, maxDelay: '10s' } } });
  uplink.start();
  await waitVerified(uplink);
  for (let i = 0; i < 19; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await uplink.stop();
  assert.equal(outbox.stats().depth, 0, 'all 19 acknowledged before the stop returned');
  await waitFor(() => got.length === 1, { what: 'the batch at the subscriber' });
  assert.deepEqual(decodeBatch(got[0].payload).r.map((r) => r[2]), Array.from({ length: 19 }, (_, i) => i));
  assert.equal(await retained(broker.url, 'fieldgate/gw1/status'), 'offline');
});

test('a clean stop publishes a backlog larger than the in-flight window, in order', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
  const clock = new VirtualClock();
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], clock, uplink: { inflight: 2, batch: { maxReadings: 100, maxDelay: '10s' } } });
  uplink.start();
  await waitVerified(uplink);
  for (let i = 0; i < 1040; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await uplink.stop();
  assert.equal(outbox.stats().depth, 0);
  // 1040 readings in batches of at most 100: ten of 100 and one of 40.
  await waitFor(() => got.length === 11, { what: 'eleven batches at the subscriber' });
  assert.deepEqual(got.flatMap((m) => decodeBatch(m.payload).r.map((r) => r[2])), Array.from({ length: 1040 }, (_, i) => i));
});

test('a clean stop gives up after drainOnStop when the broker does not acknowledge; the rows stay', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port });
  t.after(() => proxy.close());
  const clock = new VirtualClock();
  const { uplink, outbox } = makeUplink(t, { brokers: [proxy.url], clock, uplink: { drainOnStop: '2s', batch: { maxReadings: 500, maxDelay: '10s' } } });
  uplink.start();
  await waitVerified(uplink);
  proxy.holdDownstream(); // no PUBACK reaches the uplink from now on
  for (let i = 0; i < 19; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  const stopped = uplink.stop();
  await clock.advanceAsync(2000);
  await stopped;
  assert.equal(uplink.state, 'idle');
  assert.equal(outbox.stats().depth, 19, 'unacknowledged rows are kept for the next start');
  assert.equal(clock.pending(), 0);
});
