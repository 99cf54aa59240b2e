import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GpioDriverConfig } from '../../drivers/gpio/schema';
import type { GatewayConfig } from './schema';

/**
 * The systemd drop-in a config needs on top of systemd/fieldgate.service, whose base
 * grants no capability, no AF_BLUETOOTH and no sysfs write. scripts/install.sh writes
 * it (`fieldgate config unit FILE`) to
 * /etc/systemd/system/fieldgate.service.d/50-fieldgate-drivers.conf, so privileges
 * follow the drivers actually configured:
 *
 *   ble driver            CAP_NET_RAW CAP_NET_ADMIN (noble's raw HCI socket), AF_BLUETOOTH,
 *                         group bluetooth
 *   gpio over sysfs       write access to <sysfs>/class/gpio (export) and to the device
 *                         directories of the GPIO controllers found there (where the
 *                         exported gpioN/value files really live) — not all of
 *                         /sys/devices/platform
 *   unix-dgram addon      NotifyAccess=main (without it READY=1 comes from a
 *   loads                 systemd-notify child, which needs the base unit's `all`)
 *
 * systemd merges these list settings with the base unit's (systemd.exec(5)); the
 * base's empty CapabilityBoundingSet= comes first, so the set is exactly this one.
 */
export interface DropInOptions {
  /** Whether the unix-dgram addon loads here (see notifyAddonLoads). */
  notifyAddon: boolean;
}

export function unitDropIn(config: GatewayConfig, opts: DropInOptions): string {
  const lines: string[] = [];
  const ble = config.drivers.filter((d) => d.kind === 'ble').map((d) => d.id);
  if (ble.length > 0) {
    lines.push(
      `# BLE (driver ${ble.join(', ')}): noble opens a raw HCI socket.`,
      'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN',
      'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN',
      'RestrictAddressFamilies=AF_BLUETOOTH',
      'SupplementaryGroups=bluetooth',
    );
  }
  for (const raw of config.drivers) {
    if (raw.kind !== 'gpio') continue;
    // Already parsed by the config loader (defaults applied, durations in ms): only its type is narrowed here.
    const d = raw as unknown as GpioDriverConfig;
    if (d.backend === 'cdev') continue;
    const classDir = path.join(d.sysfsRoot, 'class', 'gpio');
    if (d.backend === 'auto' && !fs.existsSync(classDir)) continue; // auto picks the character device then
    lines.push(
      `# GPIO over sysfs (driver ${d.id}): export/unexport, and the controllers' directories holding gpioN/value.`,
      `ReadWritePaths=-${classDir}`,
      ...gpioControllerDirs(classDir).map((dir) => `ReadWritePaths=-${dir}`),
    );
  }
  if (opts.notifyAddon) {
    lines.push('# The unix-dgram addon loads: READY=1 and WATCHDOG=1 come from the main process only.', 'NotifyAccess=main');
  }
  if (lines.length === 0) return '';
  return [
    '# Written by scripts/install.sh from the gateway config (fieldgate config unit FILE); rewritten on',
    '# every install. Local changes belong in: systemctl edit fieldgate',
    '[Service]',
    ...lines,
    '',
  ].join('\n');
}

/**
 * Device directories of the GPIO controllers under `classDir`: each gpiochipN there is
 * a link to <controller>/gpio/gpiochipN, and an exported line appears below
 * <controller> too (e.g. /sys/devices/platform/soc/fe200000.gpio on a Pi 4).
 */
export function gpioControllerDirs(classDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(classDir).filter((n) => /^gpiochip\d+$/.test(n));
  } catch {
    return [];
  }
  const dirs = new Set<string>();
  for (const n of names.sort()) {
    try {
      dirs.add(path.dirname(path.dirname(fs.realpathSync(path.join(classDir, n)))));
    } catch {
      // a dangling link: nothing to grant
    }
  }
  return [...dirs];
}

/** Whether the optional unix-dgram addon loads with this Node (built for its ABI). */
export function notifyAddonLoads(): boolean {
  try {
    require('unix-dgram'); // eslint-disable-line @typescript-eslint/no-require-imports
    return true;
  } catch {
    return false;
  }
}
