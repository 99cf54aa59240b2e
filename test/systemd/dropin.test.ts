import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../src/config/load';
import { unitDropIn } from '../../src/config/unit-dropin';
import { main } from '../../src/cli/main';
import { captureIO } from '../cli/capture-io';
import { tempDir } from '../helpers/temp';

function config(drivers: string) {
  const res = parseConfig('gw.yaml', `gateway: { id: gw }\ndrivers:\n${drivers}`);
  assert.ok(res.ok, res.ok ? '' : res.problems.map((p) => p.message).join('\n'));
  return res.value.config;
}

const SIM = '  - { kind: sim, id: sim, sensors: [{ id: a, waveform: sine }] }\n';
const BLE = '  - kind: ble\n    id: ble0\n    devices: [{ address: "A4:C1:38:12:34:56", sensors: [{ id: t, field: temperature }] }]\n';

/**
 * A sysfs tree laid out as gpiolib-sysfs does on a Raspberry Pi 4: /sys/class/gpio/gpiochip512
 * links to the controller's device directory .../soc/fe200000.gpio/gpio/gpiochip512.
 */
function fakeSysfs(dir: string): string {
  const sys = path.join(dir, 'sys');
  const controller = path.join(sys, 'devices/platform/soc/fe200000.gpio');
  fs.mkdirSync(path.join(controller, 'gpio/gpiochip512'), { recursive: true });
  fs.mkdirSync(path.join(sys, 'class/gpio'), { recursive: true });
  fs.symlinkSync('../../devices/platform/soc/fe200000.gpio/gpio/gpiochip512', path.join(sys, 'class/gpio/gpiochip512'));
  fs.writeFileSync(path.join(sys, 'class/gpio/export'), '');
  return sys;
}

test('a site with only simulated (or serial) devices needs no drop-in', () => {
  assert.equal(unitDropIn(config(SIM), { notifyAddon: false }), '');
});

test('a BLE driver brings exactly CAP_NET_RAW, CAP_NET_ADMIN, AF_BLUETOOTH and the bluetooth group', () => {
  const text = unitDropIn(config(SIM + BLE), { notifyAddon: false });
  const directives = text.split('\n').filter((l) => /^[A-Z]/.test(l));
  assert.deepEqual(directives, [
    'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
    'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
    'RestrictAddressFamilies=AF_BLUETOOTH',
    'SupplementaryGroups=bluetooth',
  ]);
  assert.match(text, /^\[Service\]$/m);
});

test('GPIO over sysfs may write /sys/class/gpio and the controller directory, not all of /sys/devices/platform', (t) => {
  const sys = fakeSysfs(tempDir(t));
  const text = unitDropIn(config(`  - { kind: gpio, id: pins, sysfsRoot: ${sys}, backend: sysfs }\n`), { notifyAddon: false });
  assert.deepEqual(
    text.split('\n').filter((l) => l.startsWith('ReadWritePaths=')),
    [`ReadWritePaths=-${sys}/class/gpio`, `ReadWritePaths=-${fs.realpathSync(sys)}/devices/platform/soc/fe200000.gpio`],
  );
});

test('GPIO through the character device needs no sysfs write', (t) => {
  const sys = fakeSysfs(tempDir(t));
  assert.equal(unitDropIn(config(`  - { kind: gpio, id: pins, sysfsRoot: ${sys}, backend: cdev }\n`), { notifyAddon: false }), '');
});

test('NotifyAccess=main only where the unix-dgram addon loads', () => {
  assert.match(unitDropIn(config(SIM), { notifyAddon: true }), /^NotifyAccess=main$/m);
  assert.doesNotMatch(unitDropIn(config(SIM + BLE), { notifyAddon: false }), /NotifyAccess/);
});

test('fieldgate config unit prints the drop-in for a config file, and positioned errors for a bad one', async (t) => {
  const dir = tempDir(t);
  const good = path.join(dir, 'good.yaml');
  fs.writeFileSync(good, `gateway: { id: gw }\ndrivers:\n${BLE}`);
  const io = captureIO();
  assert.equal(await main(['config', 'unit', good], io), 0);
  assert.match(io.stdout(), /^RestrictAddressFamilies=AF_BLUETOOTH$/m);
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'gateway: { id: gw }\ndrivers: [{ kind: nosuch, id: x }]\n');
  const io2 = captureIO();
  assert.equal(await main(['config', 'unit', bad], io2), 1);
  assert.match(io2.stderr(), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2:`));
});

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

test('systemd-analyze verify reads the unit with the fullest drop-in (BLE, GPIO sysfs, notify) without a warning', { skip: hasAnalyze ? false : 'no systemd-analyze' }, (t) => {
  const dir = tempDir(t, 'fg-dropin-', 0o755);
  const sys = fakeSysfs(dir);
  const root = path.resolve(__dirname, '..', '..');
  // ExecStart and ExecStopPost must exist for verify: point them at this checkout's bin, as test/systemd/unit.test.ts does.
  const unit = fs
    .readFileSync(path.join(root, 'systemd/fieldgate.service'), 'utf8')
    .replace(/^(ExecStart|ExecStopPost)=\/usr\/local\/bin\/fieldgate /gm, (_, key: string) => `${key}=${path.join(root, 'bin/fieldgate.js')} `);
  fs.writeFileSync(path.join(dir, 'fieldgate.service'), unit);
  for (const u of ['fieldgate-recover.timer', 'fieldgate-recover.service']) fs.copyFileSync(path.join(root, 'systemd', u), path.join(dir, u));
  fs.mkdirSync(path.join(dir, 'fieldgate.service.d'));
  const text = unitDropIn(config(SIM + BLE + `  - { kind: gpio, id: pins, sysfsRoot: ${sys}, backend: sysfs }\n`), { notifyAddon: true });
  fs.writeFileSync(path.join(dir, 'fieldgate.service.d', '50-fieldgate-drivers.conf'), text);
  const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'fieldgate.service')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});
