import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AdcOutput } from './schema';

/**
 * Linux IIO ADC channels from sysfs, as the kernel exposes them:
 *   <sysfsRoot>/bus/iio/devices/iio:deviceN/name (a symlink into /sys/devices/..., below
 *   the parent bus device: I2C "1-0048", SPI "spi0.0")
 *   .../in_voltageM_raw, in_voltageM_scale or in_voltage_scale, in_voltageM_offset (optional)
 *   differential: in_voltageP-voltageN_raw, in_voltageP-voltageN_scale or in_voltage-voltage_scale
 * Voltage in mV = (raw + offset) × scale (Documentation/ABI/testing/sysfs-bus-iio;
 * layouts of drivers/iio/adc/ti-ads1015.c and mcp320x.c).
 * Plain synchronous reads: sysfs attributes are small and answered by the driver.
 */

/** An IIO read failed; the message names the file. */
export class IioError extends Error {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'IioError';
  }
}

export function iioDevicesDir(sysfsRoot: string): string {
  return path.join(sysfsRoot, 'bus', 'iio', 'devices');
}

export interface IioDevice {
  dir: string;
  /** Contents of the `name` file ("" when missing). */
  name: string;
}

export function listIioDevices(sysfsRoot: string): IioDevice[] {
  const root = iioDevicesDir(sysfsRoot);
  let entries: string[];
  try {
    entries = fs.readdirSync(root).filter((n) => n.startsWith('iio:device'));
  } catch (err) {
    throw new IioError(`${root}: ${describeFsError(err)}`, root);
  }
  return entries.sort(byDeviceNumber).map((n) => {
    const dir = path.join(root, n);
    let name = '';
    try {
      name = fs.readFileSync(path.join(dir, 'name'), 'utf8').trim();
    } catch {
      // a device without a name file can still be selected by path
    }
    return { dir, name };
  });
}

/** The parent (bus) device of an IIO device: "1-0048" (I2C bus 1, 0x48), "spi0.0"; undefined if not resolvable. */
export function iioParent(dir: string): string | undefined {
  try {
    // The kernel's bus/iio/devices entries are symlinks into /sys/devices/<bus path>/<parent>/iio:deviceN.
    if (!fs.lstatSync(dir).isSymbolicLink()) return undefined;
    return path.basename(path.dirname(fs.realpathSync(dir)));
  } catch {
    return undefined;
  }
}

/**
 * Directory of a device given by IIO name, name@parent ("ads1015@1-0048": stable across
 * reboots, unlike N), directory name (iio:deviceN) or absolute path.
 */
export function resolveIioDevice(sysfsRoot: string, device: string): string {
  if (path.isAbsolute(device) || device.startsWith('iio:device')) {
    const dir = path.isAbsolute(device) ? device : path.join(iioDevicesDir(sysfsRoot), device);
    if (!fs.existsSync(dir)) throw new IioError(`IIO device ${dir} does not exist`, dir);
    return dir;
  }
  const at = device.lastIndexOf('@');
  const name = at > 0 ? device.slice(0, at) : device;
  const parent = at > 0 ? device.slice(at + 1) : undefined;
  const devices = listIioDevices(sysfsRoot).map((d) => ({ ...d, parent: iioParent(d.dir) }));
  const matches = devices.filter((d) => d.name === name && (parent === undefined || d.parent === parent));
  const found = devices.map((d) => `${path.basename(d.dir)} [${d.name || 'no name'}${d.parent ? `@${d.parent}` : ''}]`).join(', ') || 'none';
  const root = iioDevicesDir(sysfsRoot);
  if (matches.length === 0) {
    throw new IioError(parent ? `no IIO device "${name}" on parent ${parent} under ${root} (found: ${found})` : `no IIO device named "${name}" under ${root} (found: ${found})`, root);
  }
  if (matches.length > 1) {
    const list = matches.map((d) => path.basename(d.dir)).join(', ');
    const advice = matches.every((d) => d.parent)
      ? `select one by its parent device, ${matches.map((d) => `"${name}@${d.parent}"`).join(' or ')} (iio:deviceN numbers change between boots)`
      : `select one by directory, e.g. "${path.basename(matches[0].dir)}"`;
    throw new IioError(`several IIO devices are named "${name}" (${list}): ${advice}`, root);
  }
  return matches[0].dir;
}

/** A channel: M (single-ended, in_voltageM_*) or "P-N" (differential, in_voltageP-voltageN_*). */
export type IioChannel = number | string;

function channelFiles(dir: string, channel: IioChannel): { raw: string; scale: string[]; offset: string[] } {
  const f = (name: string) => path.join(dir, name);
  if (typeof channel === 'number') {
    return { raw: f(`in_voltage${channel}_raw`), scale: [f(`in_voltage${channel}_scale`), f('in_voltage_scale')], offset: [f(`in_voltage${channel}_offset`), f('in_voltage_offset')] };
  }
  const m = /^(\d+)-(\d+)$/.exec(channel);
  if (!m) throw new IioError(`channel "${channel}" is neither a number nor "P-N" (differential)`, dir);
  const id = `in_voltage${m[1]}-voltage${m[2]}`;
  return { raw: f(`${id}_raw`), scale: [f(`${id}_scale`), f('in_voltage-voltage_scale')], offset: [f(`${id}_offset`), f('in_voltage-voltage_offset')] };
}

export interface ChannelSample {
  /** Mean of the raw reads. */
  raw: number;
  offset: number;
  /** Millivolts per count. */
  scale: number;
  millivolts: number;
  samples: number;
}

/** Read channel M (or "P-N") of a device: `samples` raw reads averaged, then scale and offset applied. */
export function readVoltageChannel(dir: string, channel: IioChannel, samples = 1, readText: (file: string) => string = readSysfsText): ChannelSample {
  const files = channelFiles(dir, channel);
  const rawFile = files.raw;
  if (!fs.existsSync(rawFile)) {
    const have = fs.existsSync(dir) ? listVoltageChannels(dir).join(', ') || 'none' : 'none (device directory missing)';
    throw new IioError(`${rawFile}: missing — no voltage channel ${channel} (channels: ${have})`, rawFile);
  }
  let sum = 0;
  for (let i = 0; i < samples; i++) sum += readNumber(rawFile, readText);
  const raw = sum / samples;
  const scale = readNumber(firstExisting(files.scale), readText);
  const offsetFile = files.offset.find((f) => fs.existsSync(f));
  const offset = offsetFile ? readNumber(offsetFile, readText) : 0;
  return { raw, offset, scale, millivolts: (raw + offset) * scale, samples };
}

/** Channels with a raw file: numbers M ascending, then differential "P-N" ascending. */
export function listVoltageChannels(dir: string): IioChannel[] {
  const names = fs.readdirSync(dir);
  const single = names
    .map((f) => /^in_voltage(\d+)_raw$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const diff = names
    .map((f) => /^in_voltage(\d+)-voltage(\d+)_raw$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]))
    .map((m) => `${m[1]}-${m[2]}`);
  return [...single, ...diff];
}

export function sampleValue(s: ChannelSample, output: AdcOutput): number {
  if (output === 'raw') return s.raw;
  return output === 'volts' ? s.millivolts / 1000 : s.millivolts;
}

function readSysfsText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function readNumber(file: string, readText: (file: string) => string): number {
  let text: string;
  try {
    text = readText(file).trim();
  } catch (err) {
    throw new IioError(`${file}: ${describeFsError(err)}`, file);
  }
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new IioError(`${file}: not a number: ${JSON.stringify(text.slice(0, 40))}`, file);
  return n;
}

function firstExisting(files: string[]): string {
  const f = files.find((x) => fs.existsSync(x));
  if (!f) throw new IioError(`${files.join(' and ')}: missing (no scale for this channel)`, files[0]);
  return f;
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return 'missing';
  if (e.code === 'EACCES') return 'permission denied';
  if (e.code === 'EIO') return 'read failed (EIO: the ADC did not answer — check wiring and the I2C/SPI bus)';
  return e.message ?? String(err);
}

function byDeviceNumber(a: string, b: string): number {
  return Number(a.slice('iio:device'.length)) - Number(b.slice('iio:device'.length));
}
