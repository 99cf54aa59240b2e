/** The real RabbitMQ MQTT plugin from Debian (skipped when rabbitmq-server is not installed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { rabbitmqAvailable, startRabbitMq } from '../helpers/rabbitmq';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, waitVerified } from './harness';
import { startProxy } from './tcp-proxy';

test('RabbitMQ with the default protocolVersion 5: falls back to 3.1.1, proves delivery, and readings arrive', { skip: !rabbitmqAvailable() && 'rabbitmq-server not installed (scripts/test-deps.sh)' }, async (t) => {
  const broker = await startRabbitMq();
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port }); // only to see the protocol levels
  t.after(() => proxy.close());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data'], { protocolVersion: 4 });
  const { uplink, outbox, log } = makeUplink(t, { brokers: [proxy.url] });
  uplink.start();
  await waitVerified(uplink, 10_000);
  assert.deepEqual(proxy.connectLevels, [5, 4]);
  assert.equal(log.lines.find((l) => String(l.msg).includes('refused MQTT 5'))?.reason, 'connection closed before CONNACK');
  for (let i = 0; i < 3; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await waitFor(() => outbox.stats().depth === 0, { what: 'readings acknowledged' });
  await waitFor(() => got.length > 0, { what: 'readings at the subscriber' });
  assert.deepEqual(got.flatMap((m) => decodeBatch(m.payload).r), [['a', 0, 0, 0, 0], ['a', 1, 1, 0, 0], ['a', 2, 2, 0, 0]]);
});
