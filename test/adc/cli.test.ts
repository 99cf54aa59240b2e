import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CliIO } from '../../src/cli/command';
import { adcCommand } from '../../src/cli/adc';
import { tempDir } from '../gpio/driver-context';
import { fakeIioDevice } from './fake-iio';

function capture(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTTY: false, env, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t), confirm: async () => false };
  return io;
}

test('adc read prints raw, offset, scale and the voltage', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'ads1015', { in_voltage2_raw: '1234', in_voltage2_scale: '0.125' });
  const io = capture();
  assert.equal(await adcCommand.run(['read', 'ads1015', '2', '--sysfs-root', root], io), 0);
  assert.equal(io.stdout, 'iio:device0 (ads1015) channel 2: raw 1234, offset 0, scale 0.125 mV/count → 154.25 mV (0.15425 V)\n');
});

test('adc read --json --samples, with the sysfs root from FIELDGATE_SYSFS_ROOT', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 1, 'mcp3008', { in_voltage0_raw: '1023', in_voltage_scale: '3.222656250' });
  const io = capture({ FIELDGATE_SYSFS_ROOT: root });
  assert.equal(await adcCommand.run(['read', 'mcp3008', '0', '--samples', '3', '--json'], io), 0);
  assert.deepEqual(JSON.parse(io.stdout), { device: dir, channel: 0, raw: 1023, offset: 0, scale: 3.22265625, millivolts: 3296.77734375, samples: 3, volts: 3.29677734375 });
});

test('adc read of a missing channel fails naming the file', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1', in_voltage_scale: '1' });
  const io = capture();
  assert.equal(await adcCommand.run(['read', 'ads1015', '4', '--sysfs-root', root], io), 1);
  assert.equal(io.stderr, `fieldgate adc: ${dir}/in_voltage4_raw: missing — no voltage channel 4 (channels: 0)\n`);
});

test('adc list shows devices and channels', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1', in_voltage3_raw: '1', in_voltage_scale: '1' });
  const io = capture();
  assert.equal(await adcCommand.run(['list', '--sysfs-root', root], io), 0);
  assert.equal(io.stdout, 'iio:device0  ads1015  channels: 0, 3\n');
});

test('adc usage errors', async () => {
  await assert.rejects(adcCommand.run(['read', 'ads1015'], capture()), /DEVICE and CHANNEL/);
  await assert.rejects(adcCommand.run(['read', 'ads1015', '0', '--samples', '0'], capture()), /--samples/);
});
