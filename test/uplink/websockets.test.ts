/** MQTT over WebSockets (ws:// and wss://, e.g. port 443 through firewalls) against Mosquitto's websockets listener. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { makeTestPki } from '../helpers/tls-certs';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, retained, waitVerified } from './harness';

test('ws://: online, delivery verified, readings drained to a subscriber on the plain listener', async (t) => {
  const broker = await startMosquitto({ websockets: true });
  t.after(() => broker.kill());
  const wsUrl = broker.wsUrl ?? assert.fail('no websockets listener');
  assert.ok(wsUrl.startsWith('ws://'));
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data']);
  const { uplink, outbox } = makeUplink(t, { brokers: [wsUrl] });
  uplink.start();
  await waitVerified(uplink);
  assert.equal(await retained(broker.url, 'fieldgate/gw1/status'), 'online');
  for (let i = 0; i < 3; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await waitFor(() => outbox.stats().depth === 0 && got.length > 0, { what: 'readings at the subscriber' });
  assert.deepEqual(got.flatMap((m) => decodeBatch(m.payload).r), [['a', 0, 0, 0, 0], ['a', 1, 1, 0, 0], ['a', 2, 2, 0, 0]]);
});

test('wss:// with mutual TLS: online, delivery verified, readings drained', async (t) => {
  const pki = makeTestPki();
  t.after(() => pki.remove());
  const broker = await startMosquitto({ websockets: true, tls: { cafile: pki.caCert, certfile: pki.serverCert, keyfile: pki.serverKey } });
  t.after(() => broker.kill());
  const wsUrl = broker.wsUrl ?? assert.fail('no websockets listener');
  assert.ok(wsUrl.startsWith('wss://'));
  const tls = { ca: fs.readFileSync(pki.caCert), cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) };
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data'], tls);
  const { uplink, outbox } = makeUplink(t, { brokers: [wsUrl], uplink: { tls: { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey } } });
  uplink.start();
  await waitVerified(uplink);
  outbox.add(reading('a', 1, 7));
  outbox.flush();
  await waitFor(() => outbox.stats().depth === 0 && got.length > 0, { what: 'the reading at the subscriber' });
  assert.deepEqual(decodeBatch(got[0].payload).r, [['a', 1, 7, 0, 0]]);
});
