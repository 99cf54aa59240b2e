/**
 * The uplink over TLS against a real Mosquitto that requires client certificates (mutual
 * TLS): a throwaway CA, server and client certificates are made once for the file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { makeTestPki, type TestPki } from '../helpers/tls-certs';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, waitOnline } from './harness';

let pki: TestPki;
let broker: Mosquitto;

before(async () => {
  pki = makeTestPki();
  broker = await startMosquitto({ tls: { cafile: pki.caCert, certfile: pki.serverCert, keyfile: pki.serverKey } });
});
after(async () => {
  await broker?.kill();
  pki?.remove();
});

const clientTls = () => ({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
/** Client options for a test-side subscriber with the same client certificate. */
const subscriberTls = () => ({ ca: fs.readFileSync(pki.caCert), cert: fs.readFileSync(pki.clientCert), key: fs.readFileSync(pki.clientKey) });

/** Connection attempts so far, read from the logged state transitions. */
const attempts = (log: { lines: Record<string, unknown>[] }) => log.lines.filter((l) => l.msg === 'uplink state' && l.to === 'connecting').length;

test('with CA, client certificate and key the uplink connects over mqtts://, publishes birth and drains readings', async (t) => {
  assert.match(broker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  const { got } = await observe(t, broker.url, ['fieldgate/tls1/status', 'fieldgate/tls1/data'], subscriberTls());
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], gatewayId: 'tls1', uplink: { tls: clientTls() } });
  for (let i = 0; i < 3; i++) outbox.add(reading('boiler.temp', 1_000 + i, 20 + i));
  outbox.flush();
  uplink.start();
  await waitOnline(uplink);
  await waitFor(() => got.some((m) => m.topic === 'fieldgate/tls1/status' && m.payload.toString() === 'online'), { what: 'birth "online"' });
  await waitFor(() => outbox.stats().depth === 0, { what: 'outbox drained' });
  const values = got.filter((m) => m.topic === 'fieldgate/tls1/data').flatMap((m) => decodeBatch(m.payload).r.map((r) => [r[0], r[1], r[2]]));
  assert.deepEqual(values, [
    ['boiler.temp', 1000, 20],
    ['boiler.temp', 1001, 21],
    ['boiler.temp', 1002, 22],
  ]);
  assert.equal(uplink.stats().ackedRows, 3);
  assert.equal(uplink.stats().lastError, null);
});

test('without a client certificate the broker refuses; the uplink backs off with a clear error and keeps retrying', async (t) => {
  const { uplink, log } = makeUplink(t, { brokers: [broker.url], gatewayId: 'tls2', uplink: { tls: { ca: pki.caCert } } });
  uplink.start();
  await waitFor(() => attempts(log) >= 3, { what: 'three connection attempts' });
  // TLS 1.3: the handshake looks complete to the client, then the broker answers with alert 116.
  assert.match(uplink.stats().lastError ?? '', /certificate required/);
  assert.ok(!log.lines.some((l) => l.msg === 'uplink state' && l.to === 'online'), 'never online');
  assert.ok(['connecting', 'backoff'].includes(uplink.state));
  const warnings = log.lines.filter((l) => l.level === 'warn' && l.msg === 'uplink connection attempt failed');
  assert.equal(warnings.length, 1, 'the repeating failure is logged at warn once');
  assert.match(String(warnings[0].error), /certificate required/);
});

test('a CA that did not sign the server certificate fails certificate verification', async (t) => {
  const { uplink, log } = makeUplink(t, { brokers: [broker.url], gatewayId: 'tls3', uplink: { tls: { ...clientTls(), ca: pki.otherCaCert } } });
  uplink.start();
  await waitFor(() => attempts(log) >= 2, { what: 'a second connection attempt' });
  // Mosquitto sends its CA along with the server certificate (OpenSSL builds the chain from
  // cafile), so the client finds an untrusted self-signed root: OpenSSL's
  // SELF_SIGNED_CERT_IN_CHAIN. Without the chain it would be UNABLE_TO_VERIFY_LEAF_SIGNATURE.
  assert.match(uplink.stats().lastError ?? '', /^(self[- ]signed certificate in certificate chain|unable to verify the first certificate)$/);
  assert.ok(!log.lines.some((l) => l.msg === 'uplink state' && l.to === 'online'), 'never online');
});

test('rejectUnauthorized: false connects despite the unknown CA (labs only)', async (t) => {
  const { uplink } = makeUplink(t, { brokers: [broker.url], gatewayId: 'tls4', uplink: { tls: { ...clientTls(), ca: pki.otherCaCert, rejectUnauthorized: false } } });
  uplink.start();
  await waitOnline(uplink);
  assert.equal(uplink.stats().lastError, null);
});

test('an unreadable CA, certificate or key file makes start() throw naming the file', async (t) => {
  for (const field of ['ca', 'cert', 'key'] as const) {
    const missing = path.join(pki.dir, `missing-${field}.pem`);
    const { uplink } = makeUplink(t, { brokers: [broker.url], gatewayId: `tls5${field}`, uplink: { tls: { ...clientTls(), [field]: missing } } });
    assert.throws(() => uplink.start(), (err: Error) => err.message.includes(`tls.${field}`) && err.message.includes(missing) && /ENOENT/.test(err.message));
    assert.equal(uplink.state, 'idle');
  }
});

test('a CA file replaced under the running uplink is used from the next attempt on (no restart)', async (t) => {
  const ca = path.join(pki.dir, 'rotated-ca.pem');
  fs.copyFileSync(pki.otherCaCert, ca); // the wrong CA first: every attempt fails verification
  t.after(() => fs.rmSync(ca, { force: true }));
  const { uplink, log } = makeUplink(t, { brokers: [broker.url], gatewayId: 'tls6', uplink: { tls: { ...clientTls(), ca } } });
  uplink.start();
  await waitFor(() => attempts(log) >= 2, { what: 'a second failed attempt' });
  assert.match(uplink.stats().lastError ?? '', /certificate/);
  fs.copyFileSync(pki.caCert, ca); // the right CA, as a certificate rotation would put it
  await waitOnline(uplink);
});
