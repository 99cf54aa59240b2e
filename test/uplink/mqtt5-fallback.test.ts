/**
 * Brokers that hang up on an MQTT 5 CONNECT instead of answering it (RabbitMQ 3.x's MQTT
 * plugin closes the socket, some load balancers reset it): the uplink falls back to 3.1.1
 * for that broker, at once, and says why at info.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, waitOnline, waitVerified } from './harness';
import { startProxy } from './tcp-proxy';

for (const hangUp of ['close', 'reset'] as const) {
  test(`a broker that ${hangUp === 'close' ? 'closes' : 'resets'} the connection on an MQTT 5 CONNECT gets 3.1.1 at once, and data flows`, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.kill());
    const proxy = await startProxy({ targetPort: broker.port, onMqtt5: hangUp });
    t.after(() => proxy.close());
    const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
    // Virtual time: no backoff timer fires, so only an immediate fallback can get online.
    const clock = new VirtualClock();
    const { uplink, outbox, log } = makeUplink(t, { brokers: [proxy.url], clock });
    uplink.start();
    await waitOnline(uplink);
    assert.deepEqual(proxy.connectLevels, [5, 4]);
    assert.equal(uplink.stats().protocolVersion, 4);
    const fallback = log.lines.filter((l) => String(l.msg).includes('refused MQTT 5'));
    assert.equal(fallback.length, 1);
    assert.equal(fallback[0].level, 'info');
    assert.equal(fallback[0].reason, 'connection closed before CONNACK');
    assert.equal(fallback[0].broker, proxy.url);
    await waitVerified(uplink);
    outbox.add(reading('a', 1, 42));
    outbox.flush();
    await clock.advanceAsync(20); // batch.maxDelay in the harness: the partial batch goes out
    await waitFor(() => got.length === 1, { what: 'the reading at the subscriber' });
    assert.deepEqual(decodeBatch(got[0].payload).r, [['a', 1, 42, 0, 0]]);
  });
}

test('a broker that is down (connection refused) is not mistaken for one that refuses MQTT 5', async (t) => {
  const broker = await startMosquitto();
  const port = broker.port;
  await broker.kill(); // nothing listens on the port now
  const clock = new VirtualClock();
  const { uplink, log } = makeUplink(t, { brokers: [`mqtt://127.0.0.1:${port}`], clock });
  uplink.start();
  await waitFor(() => uplink.state === 'backoff', { what: 'backoff after a refused connection' });
  assert.equal(log.lines.filter((l) => String(l.msg).includes('refused MQTT 5')).length, 0);
});
