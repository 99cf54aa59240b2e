import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'mqtt';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { counterConfig, counterValues } from './sim-config';

test('broker stopped for 30 s while a counter produces readings: every value arrives, in order, none missing', { timeout: 90_000 }, async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.after(() => broker.kill());
  // A persistent session (and broker persistence) so the recorder misses nothing
  // the broker queued for it while either side was reconnecting.
  const sub = await recordPersistent(broker.url);
  t.after(() => sub.close());

  const d = startDaemon({ config: counterConfig({ broker: broker.url }) });
  t.after(() => d.kill());
  await waitFor(() => counterValues(sub.readings()).values.length >= 20, { timeoutMs: 10_000, what: '20 live readings' });

  await broker.stop();
  const before = counterValues(sub.readings()).values.length;
  await new Promise((r) => setTimeout(r, 30_000));
  await broker.restart();

  // Every value from 0 up to the highest one seen must arrive; the counter keeps
  // running, so wait until a value produced after the outage has arrived.
  const outageSamples = 30_000 / 20;
  await waitFor(
    () => {
      const { values } = counterValues(sub.readings());
      return values.length > before + outageSamples;
    },
    { timeoutMs: 30_000, what: 'the backlog and fresh readings after the restart' },
  );
  await d.stop('SIGTERM');
  const { values, duplicates } = counterValues(sub.readings());
  const max = Math.max(...values);
  const missing: number[] = [];
  const got = new Set(values);
  for (let v = 0; v <= max; v++) if (!got.has(v)) missing.push(v);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} values missing`);
  for (let i = 1; i < values.length; i++) assert.ok(values[i] > values[i - 1], `out of order at ${i}: ${values[i - 1]} then ${values[i]}`);
  t.diagnostic(`received ${values.length} distinct values (0..${max}), ${duplicates} QoS1 duplicates`);
  // Readings stored during the outage carry the REPLAYED flag.
  assert.ok(sub.readings().some((r) => ((r[4] as number) & 1) === 1), 'replayed readings are flagged');
});

async function recordPersistent(url: string) {
  const client = connect(url, { clientId: 'outage-recorder', clean: false, reconnectPeriod: 100, protocolVersion: 4 });
  const data: Buffer[] = [];
  client.on('message', (topic, payload) => {
    if (topic === 'fieldgate/test-gw/data') data.push(payload);
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync('fieldgate/test-gw/data', { qos: 1 });
  return {
    readings: () => data.flatMap((p) => decodeBatch(p).r),
    close: () => client.endAsync(true),
  };
}
