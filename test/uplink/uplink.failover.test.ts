/** Uplink failure paths against a real Mosquitto: failover and failback, v5 refusal, refused PUBACKs, backoff. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { VirtualClock } from '../../src/core/clock';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import type { MqttFactory } from '../../src/uplink/uplink';
import { freePort, startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, retained, waitOnline } from './harness';
import { startProxy } from './tcp-proxy';

test('fails over to the second broker when the first is down, and fails back once it is up', async (t) => {
  const second = await startMosquitto();
  t.after(() => second.kill());
  const firstPort = await freePort();
  const firstUrl = `mqtt://127.0.0.1:${firstPort}`;
  const { uplink } = makeUplink(t, { brokers: [firstUrl, second.url], uplink: { failbackAfter: '300ms' } });
  uplink.start();
  await waitOnline(uplink);
  assert.equal(uplink.stats().broker, second.url);
  const first = await startMosquitto({ port: firstPort });
  t.after(() => first.kill());
  await waitFor(() => uplink.state === 'online' && uplink.stats().broker === firstUrl, { what: 'back on the preferred broker' });
  assert.equal(await retained(second.url, 'fieldgate/gw1/status'), 'offline', 'left the fallback broker cleanly');
  assert.equal(await retained(first.url, 'fieldgate/gw1/status'), 'online');
});

test('a broker that refuses MQTT 5 is spoken to with 3.1.1, and data still flows', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port, refuseMqtt5: true });
  t.after(() => proxy.close());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
  const { uplink, outbox, log } = makeUplink(t, { brokers: [proxy.url] });
  uplink.start();
  await waitOnline(uplink);
  assert.deepEqual(proxy.connectLevels, [5, 4]);
  assert.equal(uplink.stats().protocolVersion, 4);
  assert.equal(log.lines.filter((l) => String(l.msg).includes('refused MQTT 5')).length, 1);
  outbox.add(reading('a', 1, 42));
  outbox.flush();
  await waitFor(() => got.length === 1);
  assert.deepEqual(decodeBatch(got[0].payload).r, [['a', 1, 42, 0, 0]]);
});

test('readings the broker refuses (PUBACK reason code >= 0x80) are set aside, counted, logged once', async (t) => {
  // Anonymous clients may use status, health and commands but not data.
  const broker = await startMosquitto({ acl: 'topic readwrite fieldgate/gw1/status\ntopic readwrite fieldgate/gw1/health\ntopic read fieldgate/gw1/cmd/+' });
  t.after(() => broker.kill());
  const { uplink, outbox, log } = makeUplink(t, { brokers: [broker.url], uplink: { batch: { maxReadings: 10, maxDelay: '10ms' } } });
  uplink.start();
  await waitOnline(uplink);
  for (let i = 0; i < 25; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await waitFor(() => outbox.stats().rejected === 25, { what: 'all 25 set aside' });
  assert.equal(outbox.stats().depth, 0);
  assert.equal(uplink.stats().rejected, 25);
  assert.match(outbox.rejected(1)[0].reason, /^PUBACK 0x87/);
  assert.equal(log.lines.filter((l) => l.msg === 'broker refused a message; rows set aside').length, 1);
});

test('reconnects are spaced by exponential backoff with full jitter, rotating through the brokers', async (t) => {
  const [p1, p2] = [await freePort(), await freePort()]; // nothing listens: every attempt is refused
  const urls = [`mqtt://127.0.0.1:${p1}`, `mqtt://127.0.0.1:${p2}`];
  const clock = new VirtualClock();
  const start = clock.now();
  const attempts: Array<[number, string]> = [];
  const factory: MqttFactory = (url, opts) => {
    attempts.push([clock.now() - start, url]);
    return connect(url, opts);
  };
  // random() = 1 makes each full-jitter delay equal to its cap: 1 s, 2 s, 4 s, then max 4 s.
  const { uplink, log } = makeUplink(t, { brokers: urls, clock, mqttFactory: factory, random: () => 1, uplink: { backoff: { initial: '1s', max: '4s' } } });
  uplink.start();
  const delays: number[] = [];
  for (let i = 0; i < 4; i++) {
    await waitFor(() => uplink.state === 'backoff', { what: `backoff ${i}` });
    const line = log.lines.filter((l) => l.to === 'backoff').at(-1);
    delays.push(Number(line?.delayMs));
    await clock.advanceAsync(delays[i]);
  }
  assert.deepEqual(delays, [1000, 2000, 4000, 4000]);
  assert.deepEqual(attempts, [
    [0, urls[0]],
    [1000, urls[1]],
    [3000, urls[0]],
    [7000, urls[1]],
    [11000, urls[0]],
  ]);
  assert.equal(log.lines.filter((l) => l.msg === 'uplink connection attempt failed' && l.level === 'warn').length, 1, 'the same error is logged once');
});
