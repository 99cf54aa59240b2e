/**
 * The delivery probe subscribes to the gateway's own data topic for one round trip. Data
 * sent while that subscription lasts comes back to the gateway, and aedes (the demo's
 * broker) closes a connection whose PUBACK names a message the UNSUBSCRIBE has already
 * dropped from its persistent session ("no such packet"). So the drain sends nothing from
 * the probe's SUBSCRIBE until its UNSUBACK: at the first probe after a connect with a
 * backlog waiting, and at every later probe while readings flow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { reading } from '../../src/core/reading';
import { makeUplink, waitOnline } from './harness';
import { waitFor } from '../helpers/wait';

async function startAedes(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  // aedes is an ES module (the demo loads it the same way).
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server = net.createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))));
  return `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('aedes (the session is always persistent: clean false), a backlog waiting at connect and probes while readings flow: the connection is never dropped', async (t) => {
  const url = await startAedes(t);
  const { uplink, outbox } = makeUplink(t, {
    brokers: [url],
    uplink: { protocolVersion: 4, deliveryProof: { interval: '50ms', timeout: '2s' }, batch: { maxReadings: 50, maxDelay: '5ms' } },
  });
  for (let i = 0; i < 2000; i++) outbox.add(reading(`s${i % 10}`, i, i));
  outbox.flush();
  uplink.start();
  await waitOnline(uplink);
  // Keep readings coming while probes run every 50 ms.
  let n = 2000;
  const feeder = setInterval(() => {
    for (let k = 0; k < 50; k++, n++) outbox.add(reading(`s${n % 10}`, n, n));
  }, 5);
  t.after(() => clearInterval(feeder));
  await new Promise((r) => setTimeout(r, 1500));
  clearInterval(feeder);
  outbox.flush();
  await waitFor(() => outbox.stats().depth === 0, { timeoutMs: 10_000, what: 'every reading acknowledged' });
  const st = uplink.stats();
  assert.equal(st.reconnects, 0, `the broker closed the connection (last error: ${st.lastError ?? 'none'})`);
  assert.equal(st.delivery.state, 'verified');
  assert.equal(st.ackedRows, n);
});
