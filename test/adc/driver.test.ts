import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { DriverUnavailableError } from '../../drivers/driver';
import { AdcDriver } from '../../drivers/adc';
import { adcDriverSchema } from '../../drivers/adc/schema';
import { recordingContext, tempDir } from '../gpio/driver-context';
import { fakeIioDevice } from './fake-iio';

const T0 = 1_000_000;

function setup(t: { after(fn: () => void): void }, root: string, channels: unknown[]) {
  const clock = new VirtualClock(T0);
  const ctx = recordingContext(clock, tempDir(t, 'fg-adc-state-'));
  const driver = new AdcDriver(adcDriverSchema.parse({ kind: 'adc', id: 'adc', sysfsRoot: root, channels }), ctx);
  return { clock, ctx, driver };
}

test('each channel polls on its own interval, in its output unit', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  fakeIioDevice(root, 0, 'ads1015', { in_voltage0_raw: '1000', in_voltage1_raw: '500', in_voltage_scale: '3' });
  const { clock, ctx, driver } = setup(t, root, [
    { id: 'tank.level', device: 'ads1015', channel: 0, interval: '1s', output: 'volts' },
    { id: 'pressure.raw', device: 'ads1015', channel: 1, interval: '2s', output: 'raw' },
  ]);
  await driver.start();
  clock.advance(2000);
  assert.deepEqual(
    ctx.emitted.map((e) => [e.sensor, e.value, e.ts - T0]),
    [
      ['tank.level', 3, 0],
      ['pressure.raw', 500, 0],
      ['tank.level', 3, 1000],
      ['tank.level', 3, 2000],
      ['pressure.raw', 500, 2000],
    ],
  );
  await driver.stop();
  assert.equal(clock.pending(), 0);
});

test('a failing channel gives a bad reading and a reported error; the others continue; recovery', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  const dir = fakeIioDevice(root, 0, 'mcp3008', { in_voltage0_raw: '100', in_voltage1_raw: 'x', in_voltage_scale: '2' });
  const { clock, ctx, driver } = setup(t, root, [
    { id: 'a', device: 'mcp3008', channel: 0 },
    { id: 'b', device: 'mcp3008', channel: 1 },
    { id: 'c', device: 'ads1015', channel: 0 },
  ]);
  await driver.start();
  assert.deepEqual(
    ctx.emitted.map((e) => [e.sensor, Number.isNaN(e.value) ? 'NaN' : e.value, e.quality]),
    [
      ['a', 200, 'good'],
      ['b', 'NaN', 'bad'],
      ['c', 'NaN', 'bad'],
    ],
  );
  assert.deepEqual(
    ctx.errors.map((e) => [e.sensor, String(e.err)]),
    [
      ['b', `IioError: ${dir}/in_voltage1_raw: not a number: "x"`],
      ['c', `IioError: no IIO device named "ads1015" under ${root}/bus/iio/devices (found: iio:device0 [mcp3008])`],
    ],
  );
  fs.writeFileSync(path.join(dir, 'in_voltage1_raw'), '7\n');
  clock.advance(1000);
  assert.deepEqual(ctx.emitted.slice(3).map((e) => [e.sensor, e.quality]), [
    ['a', 'good'],
    ['b', 'good'],
    ['c', 'bad'],
  ]);
  assert.deepEqual((driver.health() as Record<string, { errors: number; lastError?: string }>).b.lastError, undefined);
  await driver.stop();
});

test('no IIO at all: DriverUnavailableError with the overlay to enable', async (t) => {
  const root = tempDir(t, 'fg-iio-');
  const { driver } = setup(t, root, [{ id: 'a', device: 'ads1015', channel: 0 }]);
  await assert.rejects(driver.start(), (err: unknown) => err instanceof DriverUnavailableError && /dtoverlay=ads1015/.test(err.fix ?? ''));
});
