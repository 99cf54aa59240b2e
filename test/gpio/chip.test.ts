import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bcmToSysfs, parseGpiodetect, pickHeaderChip, readSysfsChips } from '../../drivers/gpio/chip';
import { resolveBackend } from '../../drivers/gpio/backend';
import { DriverUnavailableError } from '../../drivers/driver';
import { tempDir } from './driver-context';

/** Write <root>/class/gpio/gpiochipN/{base,label,ngpio} like the kernel does. */
function fakeSysfs(root: string, chips: [base: number, label: string, ngpio: number][]): void {
  for (const [base, label, ngpio] of chips) {
    const dir = path.join(root, 'class', 'gpio', `gpiochip${base}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'base'), `${base}\n`);
    fs.writeFileSync(path.join(dir, 'label'), `${label}\n`);
    fs.writeFileSync(path.join(dir, 'ngpio'), `${ngpio}\n`);
  }
  fs.writeFileSync(path.join(root, 'class', 'gpio', 'export'), '');
}

test('old kernel (Pi 4, base 0): BCM 17 is sysfs gpio 17, the firmware expander is ignored', (t) => {
  const root = tempDir(t, 'fg-sysfs-');
  fakeSysfs(root, [
    [504, 'raspberrypi-exp-gpio', 8],
    [0, 'pinctrl-bcm2711', 58],
  ]);
  const chip = pickHeaderChip(readSysfsChips(root));
  assert.equal(chip?.label, 'pinctrl-bcm2711');
  assert.equal(bcmToSysfs(17, chip!), 17);
});

test('kernel 6.6 on a Pi 4 (base 512): BCM 17 is sysfs gpio 529', (t) => {
  const root = tempDir(t, 'fg-sysfs-');
  fakeSysfs(root, [
    [512, 'pinctrl-bcm2711', 58],
    [570, 'raspberrypi-exp-gpio', 8],
  ]);
  const chip = pickHeaderChip(readSysfsChips(root));
  assert.equal(chip?.name, 'gpiochip512');
  assert.equal(bcmToSysfs(17, chip!), 529);
});

test('Pi 5 (RP1 at base 571, SoC brcmstb chips below it): BCM 17 is sysfs gpio 588', (t) => {
  const root = tempDir(t, 'fg-sysfs-');
  fakeSysfs(root, [
    [512, 'gpio-brcmstb@107d508500', 32],
    [544, 'gpio-brcmstb@107d508520', 4],
    [548, 'gpio-brcmstb@107d517c00', 17],
    [565, 'gpio-brcmstb@107d517c20', 6],
    [571, 'pinctrl-rp1', 54],
  ]);
  const chip = pickHeaderChip(readSysfsChips(root));
  assert.equal(chip?.label, 'pinctrl-rp1');
  assert.equal(bcmToSysfs(17, chip!), 588);
});

test('a BCM pin beyond the chip is an error naming the chip', () => {
  assert.throws(() => bcmToSysfs(60, { name: 'gpiochip0', label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }), /BCM pin 60 .*gpiochip0 \(pinctrl-bcm2835, 54 lines\)/);
});

test('no header chip among the chips: undefined', () => {
  assert.equal(pickHeaderChip([{ name: 'gpiochip0', label: 'gpio-mockup-A', base: 0, ngpio: 8 }]), undefined);
});

test('a missing class/gpio directory lists no chips', (t) => {
  assert.deepEqual(readSysfsChips(tempDir(t, 'fg-sysfs-')), []);
});

test('gpiodetect output is parsed and the header chip picked', () => {
  const out = 'gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n';
  const chips = parseGpiodetect(out);
  assert.deepEqual(
    chips.map((c) => [c.name, c.label, c.ngpio]),
    [
      ['gpiochip0', 'pinctrl-bcm2711', 58],
      ['gpiochip1', 'raspberrypi-exp-gpio', 8],
    ],
  );
  assert.equal(pickHeaderChip(chips)?.name, 'gpiochip0');
});

test('auto backend: sysfs when class/gpio exists, cdev when only /dev/gpiochip* exists', (t) => {
  const root = tempDir(t, 'fg-sysfs-');
  const dev = tempDir(t, 'fg-dev-');
  fakeSysfs(root, [[0, 'pinctrl-bcm2835', 54]]);
  assert.equal(resolveBackend({ sysfsRoot: root, backend: 'auto' }, dev), 'sysfs');
  fs.writeFileSync(path.join(dev, 'gpiochip0'), '');
  assert.equal(resolveBackend({ sysfsRoot: path.join(root, 'nothing'), backend: 'auto' }, dev), 'cdev');
});

test('auto backend with neither: DriverUnavailableError naming both paths and the likely cause', (t) => {
  const root = tempDir(t, 'fg-sysfs-');
  const dev = tempDir(t, 'fg-dev-');
  assert.throws(
    () => resolveBackend({ sysfsRoot: root, backend: 'auto' }, dev),
    (err: unknown) =>
      err instanceof DriverUnavailableError &&
      err.message === `GPIO not available: no ${root}/class/gpio and no ${dev}/gpiochip* — not a Raspberry Pi or GPIO not enabled` &&
      typeof err.fix === 'string',
  );
});
