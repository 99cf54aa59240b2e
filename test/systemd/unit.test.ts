import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
const unitFile = path.join(repoRoot, 'systemd', 'fieldgate.service');
const unitText = fs.readFileSync(unitFile, 'utf8');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const skip = hasAnalyze ? false : 'systemd-analyze is missing (install the systemd package; .ci/run does)';

/**
 * A copy of the unit whose ExecStart points at this checkout's bin/fieldgate.js:
 * verify insists the binary exists, and /usr/local/bin/fieldgate only does after install.
 */
function verifiableCopy(dir: string): string {
  const copy = path.join(dir, 'fieldgate.service');
  const text = unitText.replace(/^(ExecStart|ExecStopPost)=\/usr\/local\/bin\/fieldgate /gm, (_, key: string) => `${key}=${path.join(repoRoot, 'bin', 'fieldgate.js')} `);
  assert.notEqual(text, unitText, 'ExecStart rewritten');
  fs.writeFileSync(copy, text);
  return copy;
}

/** Every value of a directive (directives may repeat). */
function directive(name: string): string[] {
  return [...unitText.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1].trim());
}

test('systemd-analyze verify accepts the unit with no warnings', { skip }, (t) => {
  const copy = verifiableCopy(tempDir(t, 'fg-unit-', 0o755));
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('systemd-analyze security rates the unit OK (exposure at most 3.0)', { skip }, (t) => {
  const copy = verifiableCopy(tempDir(t, 'fg-unit-', 0o755));
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], { encoding: 'utf8' });
  if (/unrecognized option|Unknown option/.test(r.stderr)) return t.skip('this systemd-analyze has no --offline');
  const m = /Overall exposure level for fieldgate\.service: (\d+\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  assert.ok(Number(m[1]) <= 3.0, `exposure ${m[1]}`);
});

test('after any end of the daemon the unit writes every failsafe value (ExecStopPost=fieldgate failsafe with the same paths)', () => {
  assert.deepEqual(directive('ExecStopPost'), ['/usr/local/bin/fieldgate failsafe --config /etc/fieldgate/gateway.yaml --state /var/lib/fieldgate --socket /run/fieldgate/control.sock']);
  const run = directive('ExecStart')[0];
  for (const flag of ['--config /etc/fieldgate/gateway.yaml', '--state /var/lib/fieldgate', '--socket /run/fieldgate/control.sock']) assert.ok(run.includes(flag), flag);
});

test('the unit is Type=notify with a watchdog, restart limits and a non-root user', () => {
  assert.deepEqual(directive('Type'), ['notify']);
  assert.deepEqual(directive('WatchdogSec'), ['30']);
  assert.deepEqual(directive('Restart'), ['on-failure']);
  assert.deepEqual(directive('StartLimitIntervalSec'), ['300']);
  assert.deepEqual(directive('StartLimitBurst'), ['5']);
  assert.deepEqual(directive('User'), ['fieldgate']);
  assert.deepEqual(directive('SupplementaryGroups'), ['dialout gpio bluetooth']);
  assert.deepEqual(directive('RuntimeDirectory'), ['fieldgate']);
  assert.deepEqual(directive('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_BLUETOOTH']);
  assert.deepEqual(directive('CapabilityBoundingSet'), ['CAP_NET_RAW CAP_NET_ADMIN']);
  assert.deepEqual(directive('MemoryDenyWriteExecute'), [], 'would break V8 JIT');
  assert.deepEqual(directive('DevicePolicy'), ['closed']);
  for (const dev of ['char-ttyUSB', 'char-ttyACM', 'char-ttyAMA', 'char-ttyS', 'char-gpiochip', '/dev/gpiomem', 'char-usb_device']) {
    assert.ok(directive('DeviceAllow').some((v) => v.startsWith(dev + ' ')), dev);
  }
});
