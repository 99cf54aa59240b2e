import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Which GPIO chip carries the Raspberry Pi header pins, and at what sysfs
 * number it starts. Users write BCM numbers; sysfs wants base + BCM. The base
 * is 0 on old kernels, but from kernel 6.6 sysfs numbers are dynamic: e.g. 512
 * on a Pi 4 and 571 on a Pi 5.
 */
export interface ChipInfo {
  /** Chip name, e.g. "gpiochip512" (sysfs) or "gpiochip0" (character device). */
  name: string;
  label: string;
  /** First sysfs GPIO number of the chip (sysfs only; NaN when unknown). */
  base: number;
  ngpio: number;
}

/** Labels of the SoC pin controllers that own the 40-pin header (BCM numbering). */
const HEADER_LABEL = /^pinctrl-(bcm2835|bcm2711|bcm2712|rp1)$/;

/**
 * The chip with the header pins: a known SoC pin controller label first, then
 * any other "pinctrl-" chip, each by lowest base. Undefined when none qualifies
 * (expander chips such as raspberrypi-exp-gpio are never chosen).
 */
export function pickHeaderChip(chips: ChipInfo[]): ChipInfo | undefined {
  const byBase = [...chips].sort((a, b) => a.base - b.base);
  return byBase.find((c) => HEADER_LABEL.test(c.label)) ?? byBase.find((c) => c.label.startsWith('pinctrl-'));
}

/** Chips listed under <sysfsRoot>/class/gpio (gpiochipN/{base,label,ngpio}); [] if the directory is missing. */
export function readSysfsChips(sysfsRoot: string): ChipInfo[] {
  const dir = path.join(sysfsRoot, 'class', 'gpio');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return []; // no sysfs GPIO class: the caller reports that as "not available"
  }
  const chips: ChipInfo[] = [];
  for (const name of names) {
    const read = (f: string) => fs.readFileSync(path.join(dir, name, f), 'utf8').trim();
    const base = Number(read('base'));
    const ngpio = Number(read('ngpio'));
    if (!Number.isInteger(base) || !Number.isInteger(ngpio)) {
      throw new Error(`${path.join(dir, name)}: base "${read('base')}" / ngpio "${read('ngpio')}" are not integers`);
    }
    chips.push({ name, label: read('label'), base, ngpio });
  }
  return chips;
}

/** sysfs GPIO number of a BCM pin on the header chip. */
export function bcmToSysfs(pin: number, chip: ChipInfo): number {
  if (pin < 0 || pin >= chip.ngpio) throw new Error(`BCM pin ${pin} is out of range for ${chip.name} (${chip.label}, ${chip.ngpio} lines)`);
  return chip.base + pin;
}

/**
 * Parse `gpiodetect` output (gpiod tools 1.x and 2.x):
 * "gpiochip0 [pinctrl-bcm2711] (58 lines)".
 */
export function parseGpiodetect(text: string): ChipInfo[] {
  const chips: ChipInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\[([^\]]*)\]\s+\((\d+) lines\)/.exec(line.trim());
    if (m) chips.push({ name: m[1], label: m[2], base: Number.NaN, ngpio: Number(m[3]) });
  }
  return chips;
}
