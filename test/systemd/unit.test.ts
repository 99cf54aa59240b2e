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
  // OnFailure= names the recovery timer: verify loads it (and its service) from the same directory.
  for (const unit of RECOVERY_UNITS) fs.copyFileSync(path.join(repoRoot, 'systemd', unit), path.join(dir, unit));
  return copy;
}

const RECOVERY_UNITS = ['fieldgate-recover.timer', 'fieldgate-recover.service'];

/** Every value of a directive (directives may repeat). */
function directive(name: string): string[] {
  return [...unitText.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1].trim());
}

test('systemd-analyze verify accepts the unit and the recovery units with no warnings', { skip }, (t) => {
  const dir = tempDir(t, 'fg-unit-', 0o755);
  const copy = verifiableCopy(dir);
  const r = spawnSync('systemd-analyze', ['verify', copy, ...RECOVERY_UNITS.map((u) => path.join(dir, u))], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('systemd-analyze security rates the unit for a site without BLE below 2.5 (it was 2.5 with BLE granted to all)', { skip }, (t) => {
  const copy = verifiableCopy(tempDir(t, 'fg-unit-', 0o755));
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], { encoding: 'utf8' });
  if (/unrecognized option|Unknown option/.test(r.stderr)) return t.skip('this systemd-analyze has no --offline');
  const m = /Overall exposure level for fieldgate\.service: (\d+\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  assert.ok(Number(m[1]) < 2.5, `exposure ${m[1]}`);
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
  assert.deepEqual(directive('SupplementaryGroups'), ['dialout gpio']);
  assert.deepEqual(directive('RuntimeDirectory'), ['fieldgate']);
  assert.deepEqual(directive('OnFailure'), ['fieldgate-recover.timer']);
  assert.deepEqual(directive('MemoryDenyWriteExecute'), [], 'would break V8 JIT');
  assert.deepEqual(directive('DevicePolicy'), ['closed']);
  for (const dev of ['char-ttyUSB', 'char-ttyACM', 'char-ttyAMA', 'char-ttyS', 'char-gpiochip', '/dev/gpiomem', 'char-usb_device']) {
    assert.ok(directive('DeviceAllow').some((v) => v.startsWith(dev + ' ')), dev);
  }
});

test('the base unit grants no capability, no AF_BLUETOOTH and no sysfs write (the drivers drop-in does, per config)', () => {
  assert.deepEqual(directive('CapabilityBoundingSet'), ['']);
  assert.deepEqual(directive('AmbientCapabilities'), []);
  assert.deepEqual(directive('RestrictAddressFamilies'), ['AF_UNIX AF_INET AF_INET6 AF_NETLINK']);
  assert.deepEqual(directive('ReadWritePaths'), []);
});

test('after a failure the recovery timer fires once, 10 minutes later, and its service resets and starts fieldgate', () => {
  const timer = fs.readFileSync(path.join(repoRoot, 'systemd/fieldgate-recover.timer'), 'utf8');
  const service = fs.readFileSync(path.join(repoRoot, 'systemd/fieldgate-recover.service'), 'utf8');
  assert.match(timer, /^OnActiveSec=10min$/m);
  // An elapsed timer that stays active would make the next OnFailure= start a no-op.
  assert.match(timer, /^RemainAfterElapse=no$/m);
  assert.match(timer, /^Unit=fieldgate-recover\.service$/m);
  const execs = [...service.matchAll(/^ExecStart=(.*)$/gm)].map((m) => m[1]);
  assert.match(execs[0], /^\/bin\/echo "<4>fieldgate\.service failed/, 'the journal says why, at warning priority');
  assert.deepEqual(execs.slice(1), ['/usr/bin/systemctl reset-failed fieldgate.service', '/usr/bin/systemctl start --no-block fieldgate.service']);
});
