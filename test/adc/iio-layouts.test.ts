import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listVoltageChannels, readVoltageChannel, resolveIioDevice } from '../../drivers/adc/iio';
import { tempDir } from '../gpio/driver-context';

/**
 * Trees laid out as the kernel lays them out:
 *  - /sys/bus/iio/devices/iio:deviceN is a symlink into /sys/devices/..., below the
 *    parent bus device (I2C "1-0048" = bus 1, address 0x48; SPI "spi0.0").
 *  - ti-ads1015 (drivers/iio/adc/ti-ads1015.c): ADS1015_V_DIFF_CHAN(0,1) (0,3) (1,3) (2,3)
 *    and ADS1015_V_CHAN(0..3), raw and scale per channel (info_mask_separate):
 *    in_voltage0-voltage1_raw, in_voltage0-voltage1_scale, in_voltage0_raw, in_voltage0_scale ...
 *  - mcp320x (drivers/iio/adc/mcp320x.c): raw per channel, scale shared by type:
 *    in_voltage_scale for single-ended, in_voltage-voltage_scale for differential.
 */
function device(root: string, n: number, parentPath: string, name: string, files: Record<string, string>): string {
  const real = path.join(root, 'devices', parentPath, `iio:device${n}`);
  fs.mkdirSync(real, { recursive: true });
  fs.writeFileSync(path.join(real, 'name'), `${name}\n`);
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(real, f), `${v}\n`);
  const link = path.join(root, 'bus', 'iio', 'devices', `iio:device${n}`);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(path.relative(path.dirname(link), real), link);
  return link;
}

const ads1015 = (raw: Record<string, string>) => ({
  ...Object.fromEntries(['0-voltage1', '0-voltage3', '1-voltage3', '2-voltage3', '0', '1', '2', '3'].map((c) => [`in_voltage${c}_scale`, '3'])),
  ...raw,
});

test('ti-ads1015: differential channels "P-N" read in_voltageP-voltageN_raw with their own scale', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = device(root, 0, 'platform/soc/fe804000.i2c/i2c-1/1-0048', 'ads1015', ads1015({ 'in_voltage0-voltage1_raw': '-412', 'in_voltage0_raw': '800' }));
  // (-412 + 0) × 3 mV = -1236 mV
  assert.equal(readVoltageChannel(dir, '0-1').millivolts, -1236);
  assert.equal(readVoltageChannel(dir, 0).millivolts, 2400);
  assert.deepEqual(listVoltageChannels(dir), [0, '0-1']);
});

test('mcp320x: a differential channel takes the shared in_voltage-voltage_scale', (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = device(root, 0, 'platform/soc/fe204000.spi/spi_master/spi0/spi0.0', 'mcp3008', {
    in_voltage_scale: '3.222656250',
    'in_voltage-voltage_scale': '3.222656250',
    in_voltage0_raw: '512',
    'in_voltage1-voltage0_raw': '256',
  });
  // 256 × 3.22265625 = 825 mV
  assert.equal(readVoltageChannel(dir, '1-0').millivolts, 825);
  assert.throws(() => readVoltageChannel(dir, '0-1'), /in_voltage0-voltage1_raw: missing .*channels: 0, 1-0/);
});

test('two identical chips: select by name@parent (bus address), which survives reboots; the ambiguity error says so', (t) => {
  const root = tempDir(t, 'fg-iio-');
  // probe order (and so N) varies between boots; the bus addresses do not
  device(root, 0, 'platform/soc/fe804000.i2c/i2c-1/1-0049', 'ads1015', ads1015({ in_voltage0_raw: '100' }));
  device(root, 1, 'platform/soc/fe804000.i2c/i2c-1/1-0048', 'ads1015', ads1015({ in_voltage0_raw: '200' }));
  assert.equal(readVoltageChannel(resolveIioDevice(root, 'ads1015@1-0048'), 0).raw, 200);
  assert.equal(readVoltageChannel(resolveIioDevice(root, 'ads1015@1-0049'), 0).raw, 100);
  assert.throws(() => resolveIioDevice(root, 'ads1015'), /several IIO devices are named "ads1015" \(iio:device0, iio:device1\): select one by its parent device, "ads1015@1-0049" or "ads1015@1-0048"/);
  assert.throws(() => resolveIioDevice(root, 'ads1015@1-004a'), /no IIO device "ads1015" on parent 1-004a .*found: iio:device0 \[ads1015@1-0049\], iio:device1 \[ads1015@1-0048\]/);
});
