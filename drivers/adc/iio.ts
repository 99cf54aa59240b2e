import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AdcOutput } from './schema';

/**
 * Linux IIO ADC channels from sysfs, as the kernel exposes them:
 *   <sysfsRoot>/bus/iio/devices/iio:deviceN/name
 *   .../in_voltageM_raw, in_voltageM_scale or in_voltage_scale, in_voltageM_offset (optional)
 * Voltage in mV = (raw + offset) × scale (Documentation/ABI/testing/sysfs-bus-iio).
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

/** Directory of a device given by IIO name, directory name (iio:deviceN) or absolute path. */
export function resolveIioDevice(sysfsRoot: string, device: string): string {
  if (path.isAbsolute(device) || device.startsWith('iio:device')) {
    const dir = path.isAbsolute(device) ? device : path.join(iioDevicesDir(sysfsRoot), device);
    if (!fs.existsSync(dir)) throw new IioError(`IIO device ${dir} does not exist`, dir);
    return dir;
  }
  const devices = listIioDevices(sysfsRoot);
  const matches = devices.filter((d) => d.name === device);
  const found = devices.map((d) => `${path.basename(d.dir)} [${d.name || 'no name'}]`).join(', ') || 'none';
  if (matches.length === 0) throw new IioError(`no IIO device named "${device}" under ${iioDevicesDir(sysfsRoot)} (found: ${found})`, iioDevicesDir(sysfsRoot));
  if (matches.length > 1) {
    throw new IioError(`several IIO devices are named "${device}" (${matches.map((d) => path.basename(d.dir)).join(', ')}): select one by directory, e.g. "${path.basename(matches[0].dir)}"`, iioDevicesDir(sysfsRoot));
  }
  return matches[0].dir;
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

/** Read channel M of a device: `samples` raw reads averaged, then scale and offset applied. */
export function readVoltageChannel(dir: string, channel: number, samples = 1, readText: (file: string) => string = readSysfsText): ChannelSample {
  const rawFile = path.join(dir, `in_voltage${channel}_raw`);
  if (!fs.existsSync(rawFile)) {
    const have = fs.existsSync(dir) ? listVoltageChannels(dir).join(', ') || 'none' : 'none (device directory missing)';
    throw new IioError(`${rawFile}: missing — no voltage channel ${channel} (channels: ${have})`, rawFile);
  }
  let sum = 0;
  for (let i = 0; i < samples; i++) sum += readNumber(rawFile, readText);
  const raw = sum / samples;
  const scale = readNumber(firstExisting([path.join(dir, `in_voltage${channel}_scale`), path.join(dir, 'in_voltage_scale')]), readText);
  const offsetFile = [path.join(dir, `in_voltage${channel}_offset`), path.join(dir, 'in_voltage_offset')].find((f) => fs.existsSync(f));
  const offset = offsetFile ? readNumber(offsetFile, readText) : 0;
  return { raw, offset, scale, millivolts: (raw + offset) * scale, samples };
}

/** Channel numbers M with an in_voltageM_raw file, ascending. */
export function listVoltageChannels(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((f) => /^in_voltage(\d+)_raw$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
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
