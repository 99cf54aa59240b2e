import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IioError, readVoltageChannel, resolveIioDevice, sampleValue } from '../../drivers/adc/iio';
import { tempDir } from '../gpio/driver-context';
import { fakeIioDevice } from './fake-iio';

test('ADS1015: per-channel scale, mV = raw × scale', (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1000', in_voltage0_scale: '3.000000000' });
  const s = readVoltageChannel(resolveIioDevice(root, 'ads1015'), 0);
  assert.equal(s.millivolts, 3000);
  assert.equal(sampleValue(s, 'volts'), 3);
  assert.equal(sampleValue(s, 'raw'), 1000);
});

test('MCP3008: shared in_voltage_scale (3300 mV / 1024 counts)', (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'mcp3008', { in_voltage3_raw: '512', in_voltage_scale: '3.222656250' });
  assert.equal(readVoltageChannel(resolveIioDevice(root, 'mcp3008'), 3).millivolts, 1650);
});

test('offset is added to raw before scaling: (600 + -100) × 0.5 = 250 mV', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'adc', { in_voltage1_raw: '600', in_voltage1_scale: '0.5', in_voltage1_offset: '-100' });
  const s = readVoltageChannel(dir, 1);
  assert.deepEqual([s.raw, s.offset, s.scale, s.millivolts], [600, -100, 0.5, 250]);
});

test('oversampling: the mean of N raw reads', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '0', in_voltage0_scale: '2' });
  const raws = ['100', '101', '103', '104'];
  const read = (f: string) => (f.endsWith('_raw') ? raws.shift()! : fs.readFileSync(f, 'utf8'));
  const s = readVoltageChannel(dir, 0, 4, read);
  assert.equal(s.raw, 102);
  assert.equal(s.millivolts, 204);
});

test('devices are selectable by directory name and by absolute path', (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'ads1015', {});
  const dir1 = fakeIioDevice(root, 1, 'ads1015', {});
  assert.equal(resolveIioDevice(root, 'iio:device1'), dir1);
  assert.equal(resolveIioDevice(root, dir1), dir1);
  assert.throws(() => resolveIioDevice(root, 'ads1015'), /several IIO devices are named "ads1015" \(iio:device0, iio:device1\)/);
});

test('an unknown device name lists the devices found', (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'mcp3008', {});
  assert.throws(() => resolveIioDevice(root, 'ads1015'), /no IIO device named "ads1015" under .*bus\/iio\/devices \(found: iio:device0 \[mcp3008\]\)/);
});

test('a missing channel names the file and lists the channels there', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1', in_voltage1_raw: '1', in_voltage_scale: '1' });
  assert.throws(
    () => readVoltageChannel(dir, 5),
    (err: unknown) => err instanceof IioError && err.file === path.join(dir, 'in_voltage5_raw') && /no voltage channel 5 \(channels: 0, 1\)/.test(err.message),
  );
});

test('a missing scale names both files looked for', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1' });
  assert.throws(() => readVoltageChannel(dir, 0), { message: `${dir}/in_voltage0_scale and ${dir}/in_voltage_scale: missing (no scale for this channel)` });
});

test('a non-numeric value is an error naming the file and showing the text', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: 'busy', in_voltage0_scale: '1' });
  assert.throws(() => readVoltageChannel(dir, 0), { message: `${dir}/in_voltage0_raw: not a number: "busy"` });
});

test('an unreadable value (EIO from the bus) is an error naming the file', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1', in_voltage0_scale: '1' });
  const eio = () => {
    throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  };
  assert.throws(() => readVoltageChannel(dir, 0, 1, eio), { message: `${dir}/in_voltage0_raw: read failed (EIO: the ADC did not answer — check wiring and the I2C/SPI bus)` });
});
