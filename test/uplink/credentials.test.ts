/**
 * Credentials are read at every connection attempt: a password changed under a running
 * gateway (broker and password file) needs no restart, and passwordCommand hands out a
 * fresh short-lived password (a token) per connection, renewed after its lifetime.
 * Mosquitto has no JWT plugin, so the "token" here is a password the test rotates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from '../../src/config/load';
import { VirtualClock } from '../../src/core/clock';
import { formatProblem } from '../../src/config/yaml-source';
import { startMosquitto } from '../helpers/mosquitto';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/wait';
import { makeUplink, retained, waitVerified } from './harness';
import { startProxy } from './tcp-proxy';

test('a password rotated under a running gateway (broker and passwordFile) is used at the next connection', async (t) => {
  const broker = await startMosquitto({ passwords: { gw1: 'old-pass' } });
  t.after(() => broker.kill());
  const proxy = await startProxy({ targetPort: broker.port });
  t.after(() => proxy.close());
  const file = path.join(tempDir(t), 'mqtt.password');
  fs.writeFileSync(file, 'old-pass\n');
  const { uplink, log } = makeUplink(t, { brokers: [proxy.url], uplink: { username: 'gw1', passwordFile: file } });
  uplink.start();
  await waitVerified(uplink);
  await broker.setPasswords({ gw1: 'new-pass' });
  fs.writeFileSync(file, 'new-pass\n');
  proxy.cutAll(); // the next connection must authenticate again
  await waitFor(() => uplink.state === 'online' && uplink.stats().reconnects === 1, { what: 'back online with the new password' });
  assert.ok(!JSON.stringify(log.lines).includes('new-pass') && !JSON.stringify(log.lines).includes('old-pass'), 'no password in the log');
});

test('passwordCommand: a fresh password for every connection, renewed after its lifetime', async (t) => {
  const broker = await startMosquitto({ passwords: { gw1: 'token-1' } });
  t.after(() => broker.kill());
  const dir = tempDir(t);
  const token = path.join(dir, 'token');
  const runs = path.join(dir, 'runs');
  fs.writeFileSync(token, 'token-1\n');
  const clock = new VirtualClock();
  const { uplink, log } = makeUplink(t, {
    brokers: [broker.url],
    clock,
    uplink: {
      username: 'gw1',
      passwordCommand: { command: ['/bin/sh', '-c', `echo run >> ${runs}; cat ${token}`], lifetime: '1h' },
      deliveryProof: { interval: '2h' }, // no probe due while virtual time jumps an hour
    },
  });
  uplink.start();
  await waitVerified(uplink);
  assert.equal(fs.readFileSync(runs, 'utf8'), 'run\n');
  // The lifetime is up: leave cleanly, run the helper again, connect again.
  await clock.advanceAsync(3_600_000);
  await waitFor(() => uplink.state === 'online' && uplink.stats().reconnects === 1, { what: 'reconnected after the lifetime' });
  assert.equal(fs.readFileSync(runs, 'utf8'), 'run\nrun\n', 'the helper ran once per connection');
  assert.equal(log.lines.filter((l) => l.msg === 'password lifetime is up; reconnecting with a fresh one').length, 1);
  // The broker now wants token-2 (Mosquitto drops clients whose password no longer passes on reload).
  fs.writeFileSync(token, 'token-2\n');
  await broker.setPasswords({ gw1: 'token-2' });
  await waitFor(async () => {
    await clock.advanceAsync(200); // past any backoff delay (at most backoff.max = 200 ms in the harness)
    return uplink.state === 'online' && uplink.stats().reconnects === 2;
  }, { what: 'online with token-2' });
  assert.equal(fs.readFileSync(runs, 'utf8'), 'run\nrun\nrun\n', 'one more run for the reconnection');
  assert.equal(await retained(broker.url, 'fieldgate/gw1/status', { username: 'gw1', password: 'token-2' }), 'online');
  assert.ok(!JSON.stringify(log.lines).includes('token-'), 'no token in the log');
});

test('a failing passwordCommand is a failed attempt with its exit code and first stderr line, retried with backoff', async (t) => {
  const clock = new VirtualClock();
  const { uplink } = makeUplink(t, {
    brokers: ['mqtt://127.0.0.1:1'],
    clock,
    uplink: { username: 'gw1', passwordCommand: { command: ['/bin/sh', '-c', 'echo "no signing key" >&2; exit 3'] } },
  });
  uplink.start();
  await waitFor(() => uplink.state === 'backoff', { what: 'backoff' });
  assert.equal(uplink.stats().lastError, 'uplink passwordCommand /bin/sh failed: exit code 3 (no signing key)');
});

test('config check refuses two password sources at once, at the second one', () => {
  const res = parseConfig(
    'gw.yaml',
    `gateway: { id: gw }
drivers:
  - { kind: sim, id: sim, sensors: [{ id: a, waveform: sine }] }
uplink:
  brokers: [mqtts://b.example.com]
  passwordFile: /etc/fieldgate/pw
  passwordCommand: { command: [/usr/bin/make-token] }
`,
  );
  assert.deepEqual(res.ok ? [] : res.problems.map(formatProblem), [
    'gw.yaml:7:20: uplink.passwordCommand: use one of password, passwordFile and passwordCommand (both passwordFile and passwordCommand are set)',
  ]);
});
