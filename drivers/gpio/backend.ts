import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DriverUnavailableError } from '../driver';
import { parseGpiodetect, pickHeaderChip, readSysfsChips, type ChipInfo } from './chip';
import { createGpiodToolsFactory, detectGpiodVersion, type GpiodVersion } from './gpiod-backend';
import type { GpioLineFactory } from './line';
import { createOnoffFactory } from './onoff-backend';
import type { GpioDriverConfig } from './schema';

export const FIX_GROUP = 'add the fieldgate user to group gpio (sudo usermod -aG gpio fieldgate) and restart fieldgate';

export interface BackendEnv {
  /** Where gpiochip character devices live (default /dev). */
  devDir?: string;
  /** Directory of the gpiod tools (default: PATH). */
  toolsDir?: string;
  now: () => number;
  onError: (err: unknown, pin: number) => void;
}

type BackendChoice = Pick<GpioDriverConfig, 'sysfsRoot' | 'backend' | 'chip'>;

/** 'sysfs' or 'cdev' for `backend: auto`: sysfs while /sys/class/gpio exists, else the character device. */
export function resolveBackend(cfg: BackendChoice, devDir = '/dev'): 'sysfs' | 'cdev' {
  if (cfg.backend !== 'auto') return cfg.backend;
  const sysfsDir = path.join(cfg.sysfsRoot, 'class', 'gpio');
  if (fs.existsSync(sysfsDir)) return 'sysfs';
  if (listCharDevices(devDir).length > 0) return 'cdev';
  throw new DriverUnavailableError(
    `GPIO not available: no ${sysfsDir} and no ${path.join(devDir, 'gpiochip*')} — not a Raspberry Pi or GPIO not enabled`,
    'run fieldgate on a Raspberry Pi (or a board with GPIO); in a container pass the GPIO device through (--device /dev/gpiochip0)',
  );
}

/** Open the configured (or detected) backend. Throws DriverUnavailableError when GPIO cannot be used. */
export async function openGpioBackend(cfg: BackendChoice, env: BackendEnv): Promise<GpioLineFactory> {
  const devDir = env.devDir ?? '/dev';
  if (resolveBackend(cfg, devDir) === 'sysfs') {
    const chip = sysfsChip(cfg);
    checkAccess(path.join(cfg.sysfsRoot, 'class', 'gpio', 'export'));
    return createOnoffFactory(chip, env.now, env.onError);
  }
  for (const dev of listCharDevices(devDir)) checkAccess(dev);
  const chip = cfg.chip ?? (await detectCdevChip(env.toolsDir)).name;
  const version = await gpiodVersion(env.toolsDir);
  return createGpiodToolsFactory({ chip, toolsDir: env.toolsDir, version, now: env.now, onError: env.onError });
}

/** Map a hardware error to DriverUnavailableError when retrying soon cannot help. */
export function classifyGpioError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') {
    return new DriverUnavailableError(`GPIO permission denied: ${what}: ${(err as Error).message}`, FIX_GROUP);
  }
  return err;
}

function sysfsChip(cfg: BackendChoice): ChipInfo {
  const chips = readSysfsChips(cfg.sysfsRoot);
  const chip = cfg.chip ? chips.find((c) => c.name === cfg.chip || c.label === cfg.chip) : pickHeaderChip(chips);
  if (!chip) {
    const found = chips.map((c) => `${c.name} [${c.label}]`).join(', ') || 'none';
    throw new DriverUnavailableError(
      `GPIO not available: no ${cfg.chip ? `chip "${cfg.chip}"` : 'Raspberry Pi header chip (pinctrl-*)'} under ${path.join(cfg.sysfsRoot, 'class', 'gpio')} (found: ${found})`,
      cfg.chip ? 'set `chip:` to one of the chips found, or remove it to detect the header chip' : 'set `chip:` to the name or label of the GPIO chip to use',
    );
  }
  return chip;
}

function checkAccess(file: string): void {
  try {
    fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new DriverUnavailableError(`GPIO permission denied: cannot open ${file}`, FIX_GROUP);
    throw err;
  }
}

function listCharDevices(devDir: string): string[] {
  try {
    return fs
      .readdirSync(devDir)
      .filter((n) => /^gpiochip\d+$/.test(n))
      .map((n) => path.join(devDir, n));
  } catch {
    return []; // no such directory: no character devices
  }
}

async function detectCdevChip(toolsDir: string | undefined): Promise<ChipInfo> {
  const cmd = toolsDir ? path.join(toolsDir, 'gpiodetect') : 'gpiodetect';
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(cmd, []));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DriverUnavailableError('GPIO character device found but the gpiod tools are not installed (gpiodetect missing)', 'sudo apt install gpiod');
    }
    throw classifyGpioError(err, 'gpiodetect');
  }
  const chip = pickHeaderChip(parseGpiodetect(stdout));
  if (!chip) throw new DriverUnavailableError(`GPIO not available: gpiodetect lists no Raspberry Pi header chip:\n${stdout.trim()}`, 'set `chip:` to the chip to use');
  return chip;
}

async function gpiodVersion(toolsDir: string | undefined): Promise<GpiodVersion> {
  try {
    return await detectGpiodVersion(toolsDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DriverUnavailableError('GPIO character device found but the gpiod tools are not installed (gpioget missing)', 'sudo apt install gpiod');
    }
    throw new DriverUnavailableError(`GPIO: ${(err as Error).message}`, 'install libgpiod 1.6 or 2.x tools (sudo apt install gpiod)');
  }
}
