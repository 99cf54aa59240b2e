import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { DriverUnavailableError } from '../../drivers/driver';
import { FakeGpioChip, GpioDriver } from '../../drivers/gpio';
import { gpioDriverSchema } from '../../drivers/gpio/schema';
import { recordingContext, tempDir } from './driver-context';

const T0 = 1_000_000;

function setup(t: { after(fn: () => void): void }, config: unknown, stateDir = tempDir(t, 'fg-gpio-state-')) {
  const clock = new VirtualClock(T0);
  const chip = new FakeGpioChip(clock);
  const ctx = recordingContext(clock, stateDir);
  const driver = new GpioDriver(gpioDriverSchema.parse(config), ctx, { lineFactory: chip });
  return { clock, chip, ctx, driver, stateDir };
}

const door = { kind: 'gpio', id: 'pins', inputs: [{ id: 'door', pin: 17, debounce: '20ms', activeLow: true, interval: '10s' }] };

test('state input: the level at start, then one reading per debounced change, active-low inverted', async (t) => {
  const { clock, chip, ctx, driver } = setup(t, door);
  chip.setLevel(17, 1); // pulled up: contact open → logical 0
  await driver.start();
  assert.deepEqual(ctx.emitted, [{ sensor: 'door', value: 0, quality: 'good', ts: T0 }]);
  chip.train(17, [ { atMs: 100, value: 0 }, { atMs: 101, value: 1 }, { atMs: 103, value: 0 }, { atMs: 110, value: 1 }, { atMs: 112, value: 0 } ], clock);
  clock.advance(19);
  assert.equal(ctx.emitted.length, 1, 'still bouncing: 112 + 20 ms not reached');
  clock.advance(1);
  assert.deepEqual(ctx.emitted.slice(1), [{ sensor: 'door', value: 1, quality: 'good', ts: T0 + 100 }]);
  await driver.stop();
});

test('state input re-emits its level every interval so it never goes stale', async (t) => {
  const { clock, ctx, driver } = setup(t, door);
  await driver.start();
  clock.advance(30_000);
  assert.deepEqual(ctx.emitted.map((e) => e.ts - T0), [0, 10_000, 20_000, 30_000]);
  await driver.stop();
});

test('edge: rising emits only changes to 1', async (t) => {
  const { chip, ctx, driver } = setup(t, { kind: 'gpio', id: 'p', inputs: [{ id: 'float', pin: 5, edge: 'rising' }] });
  await driver.start();
  chip.edge(5, 1);
  chip.edge(5, 0);
  chip.edge(5, 1);
  assert.deepEqual(ctx.emitted.map((e) => e.value), [0, 1, 1]);
  await driver.stop();
});

test('stop releases every line and clears every timer', async (t) => {
  const { clock, chip, driver } = setup(t, door);
  await driver.start();
  await driver.write({ pin: 27 }, true);
  chip.edge(17, 0); // leaves a debounce timer pending
  await driver.stop();
  assert.equal(clock.pending(), 0);
  assert.equal(chip.isClaimed(17), false);
  assert.equal(chip.isWatched(17), false);
  assert.equal(chip.isClaimed(27), false);
});

const meter = {
  kind: 'gpio',
  id: 'pins',
  statePersistInterval: '5m',
  inputs: [
    {
      id: 'water.flow',
      unit: 'L/min',
      pin: 22,
      mode: 'counter',
      debounce: '5ms',
      counter: { factor: 0.5, rateWindow: '1m', rateUnit: 'min', total: { id: 'water.total', unit: 'L' } },
    },
  ],
};

test('counter: 30 pulses in a 1 min window at 0.5 L/pulse → 15 L/min, total 15 L', async (t) => {
  const { clock, chip, ctx, driver } = setup(t, meter);
  await driver.start();
  assert.deepEqual(ctx.emitted, [{ sensor: 'water.total', value: 0, quality: 'good', ts: T0 }]);
  chip.pulses(22, 30, 1000, 100, clock); // one 100 ms pulse per second, 29.1 s in all
  clock.advance(60_000 - 29_100);
  assert.deepEqual(
    ctx.emitted.slice(1).map((e) => [e.sensor, e.value, e.ts - T0]),
    [
      ['water.flow', 15, 60_000],
      ['water.total', 15, 60_000],
    ],
  );
  clock.advance(60_000); // no pulses in the next window
  assert.deepEqual(ctx.emitted.slice(3).map((e) => e.value), [0, 15]);
  await driver.stop();
});

test('counter: bounces on each pulse count once', async (t) => {
  const { clock, chip, driver } = setup(t, meter);
  await driver.start();
  for (let i = 0; i < 4; i++) {
    chip.train(22, [ { atMs: 0, value: 1 }, { atMs: 1, value: 0 }, { atMs: 2, value: 1 }, { atMs: 50, value: 0 }, { atMs: 51, value: 1 }, { atMs: 52, value: 0 } ], clock);
    clock.advance(200);
  }
  assert.equal((driver.health().inputs as Record<string, { pulses: number }>)['water.flow'].pulses, 4);
  await driver.stop();
});

test('counter: the total survives a restart over the same state dir and is written atomically', async (t) => {
  const first = setup(t, meter);
  await first.driver.start();
  first.chip.pulses(22, 7, 1000, 100, first.clock);
  first.clock.advance(1000);
  await first.driver.stop();
  const file = path.join(first.stateDir, 'counter-totals.json');
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: 1, totals: { 'water.flow': 3.5 } });
  assert.deepEqual(fs.readdirSync(first.stateDir), ['counter-totals.json'], 'no temp file left behind');

  const second = setup(t, meter, first.stateDir);
  await second.driver.start();
  assert.deepEqual(second.ctx.emitted, [{ sensor: 'water.total', value: 3.5, quality: 'good', ts: T0 }]);
  second.chip.pulses(22, 3, 1000, 100, second.clock);
  second.clock.advance(60_000 - 2_100);
  assert.deepEqual(second.ctx.emitted.slice(1).map((e) => [e.sensor, e.value]), [
    ['water.flow', 1.5],
    ['water.total', 5],
  ]);
  await second.driver.stop();
});

test('counter: totals are written at most once per statePersistInterval while running', async (t) => {
  const { clock, chip, driver, stateDir } = setup(t, meter);
  const file = path.join(stateDir, 'counter-totals.json');
  await driver.start();
  chip.pulses(22, 2, 1000, 100, clock);
  clock.advance(4 * 60_000);
  assert.equal(fs.existsSync(file), false, 'not before 5 min');
  clock.advance(60_000);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).totals, { 'water.flow': 1 });
  await driver.stop();
});

test('a corrupt totals file is reported, kept aside, and counting restarts from 0', async (t) => {
  const { ctx, driver, stateDir } = setup(t, meter);
  fs.writeFileSync(path.join(stateDir, 'counter-totals.json'), '{"totals": {"water.flow": 1');
  await driver.start();
  assert.equal(ctx.errors.length, 1);
  assert.match(String(ctx.errors[0].err), /counter-totals\.json: not valid JSON/);
  assert.equal(fs.readdirSync(stateDir).filter((f) => f.includes('.corrupt-')).length, 1);
  assert.equal(ctx.emitted[0].value, 0);
  await driver.stop();
});

test('outputs: write claims the line at the requested level, active-low inverts, inputs refuse writes', async (t) => {
  const { chip, driver } = setup(t, door);
  await driver.start();
  await driver.write({ pin: 27 }, true);
  await driver.write({ pin: 27 }, 0);
  assert.equal(chip.level(27), 0);
  await driver.write({ pin: 23, activeLow: true }, true);
  assert.equal(chip.level(23), 0);
  await driver.write({ pin: 23, activeLow: true }, false);
  assert.deepEqual(chip.writes(23), [1]);
  await assert.rejects(driver.write({ pin: 17 }, 1), /pin 17 is configured as input "door"/);
  assert.deepEqual(driver.health().outputs, { 27: 0, 23: 1 });
  await driver.stop();
});

test('permission denied opening a line: DriverUnavailableError telling to join group gpio', async (t) => {
  const { chip, driver } = setup(t, door);
  chip.failWith = Object.assign(new Error("EACCES: permission denied, open '/sys/class/gpio/export'"), { code: 'EACCES' });
  await assert.rejects(driver.start(), (err: unknown) => err instanceof DriverUnavailableError && /group gpio/.test(err.fix ?? ''));
});

test('config: duplicate pins and counter settings on a state input are errors at load', () => {
  const r = gpioDriverSchema.safeParse({
    kind: 'gpio',
    id: 'p',
    inputs: [
      { id: 'a', pin: 4 },
      { id: 'b', pin: 4, counter: { factor: 1 } },
    ],
  });
  assert.equal(r.success, false);
  const messages = r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.deepEqual(messages, ['inputs.1.pin: pin 4 is already used by input "a"', 'inputs.1.counter: counter settings need mode: counter']);
});
