/**
 * Secrets: credentials in a broker URL are refused by config check (and never shown
 * anywhere a URL is); turning off certificate checks or sending a password in clear text
 * is warned about at start and flagged in health.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load';
import { VirtualClock } from '../../src/core/clock';
import { formatProblem } from '../../src/config/yaml-source';
import { redactUrl } from '../../src/uplink/broker-url';
import { makeUplink } from './harness';

const CONFIG = (broker: string) => `gateway: { id: gw }
drivers:
  - kind: sim
    id: sim
    sensors:
      - { id: a, waveform: sine }
uplink:
  brokers:
    - mqtt://ok.example.com:1883
    - ${broker}
`;

for (const url of ['mqtt://gw1:s3cret@broker.example.com:1883', 'mqtts://token@broker.example.com']) {
  test(`config check refuses credentials in a broker URL (${url.replace(/\/\/.*@/, '//…@')}), at the URL's position, without echoing them`, () => {
    const res = parseConfig('gw.yaml', CONFIG(url));
    assert.equal(res.ok, false);
    const lines = res.ok ? [] : res.problems.map(formatProblem);
    // The second broker is on line 10, its value starts at column 7.
    assert.deepEqual(lines, [
      'gw.yaml:10:7: uplink.brokers.1: credentials in a broker URL are not allowed (they would show in logs and status): use uplink.username and uplink.passwordFile',
    ]);
    assert.ok(!lines[0].includes('s3cret') && !lines[0].includes('token@'));
  });
}

test('redactUrl hides user and password and keeps the rest', () => {
  assert.equal(redactUrl('mqtt://gw1:s3cret@broker.example.com:1883/x'), 'mqtt://***@broker.example.com:1883/x');
  assert.equal(redactUrl('wss://token@broker.example.com'), 'wss://***@broker.example.com');
  assert.equal(redactUrl('mqtts://broker.example.com:8883'), 'mqtts://broker.example.com:8883');
});

test('a URL with credentials given in code is never shown: logs and stats carry it redacted', async (t) => {
  const clock = new VirtualClock();
  const { uplink, log } = makeUplink(t, { brokers: ['mqtt://127.0.0.1:1'], unchecked: { brokers: ['mqtt://gw1:s3cret@127.0.0.1:1'] }, clock });
  uplink.start();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(uplink.stats().broker, 'mqtt://***@127.0.0.1:1');
  assert.ok(!JSON.stringify(log.lines).includes('s3cret'));
});

test('rejectUnauthorized: false and a password over plain mqtt:// are warned about at start and flagged in health', (t) => {
  const clock = new VirtualClock();
  const { uplink, log } = makeUplink(t, {
    brokers: ['mqtt://127.0.0.1:1', 'mqtts://127.0.0.1:2'],
    clock,
    uplink: { username: 'gw1', password: 'pw', tls: { rejectUnauthorized: false } },
  });
  uplink.start();
  const expected = [
    'TLS certificate checking is off (uplink.tls.rejectUnauthorized: false): anyone on the network path can pose as the broker',
    'broker password sent in clear text to mqtt://127.0.0.1:1: use mqtts:// or wss://',
  ];
  assert.deepEqual(uplink.stats().insecure, expected);
  for (const p of expected) assert.ok(uplink.problems().includes(p), p);
  assert.deepEqual(log.lines.filter((l) => l.level === 'warn' && l.msg === 'insecure uplink setting').map((l) => l.problem), expected);
});

test('TLS with checking on, or no password over mqtt://, is not flagged', (t) => {
  const clock = new VirtualClock();
  const { uplink } = makeUplink(t, { brokers: ['mqtt://127.0.0.1:1'], clock });
  uplink.start();
  assert.deepEqual(uplink.stats().insecure, []);
});
