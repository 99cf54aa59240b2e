import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { simDriverSchema } from '../../drivers/sim/schema';
import { SimDriver } from '../../drivers/sim/sim';
import type { DriverContext } from '../../drivers/driver';

interface Emitted {
  sensor: string;
  value: unknown;
  ts: number;
}

function paced(pace: Record<string, unknown>, sensors = 3) {
  const clock = new VirtualClock(0);
  const emitted: Emitted[] = [];
  const ctx: DriverContext = {
    id: 'load',
    log: silentLogger,
    clock,
    stateDir: '/nonexistent',
    emit: (sensor, value) => emitted.push({ sensor, value, ts: clock.now() }),
    reportError: () => assert.fail('no errors expected'),
  };
  const config = simDriverSchema.parse({
    kind: 'sim',
    id: 'load',
    pace,
    sensors: Array.from({ length: sensors }, (_, i) => ({ id: `s${i}`, waveform: 'counter', start: 100 * i })),
  });
  return { clock, emitted, driver: new SimDriver(config, ctx) };
}

test('paced: 1 000 readings/s in 10 ms ticks offers exactly 10 per tick, sensors in turn', async () => {
  const { clock, emitted, driver } = paced({ rate: 1000, tick: '10ms' });
  await driver.start();
  assert.equal(emitted.length, 0, 'nothing before the first tick');
  clock.advance(10);
  assert.deepEqual(
    emitted.map((e) => e.sensor),
    ['s0', 's1', 's2', 's0', 's1', 's2', 's0', 's1', 's2', 's0'],
  );
  clock.advance(990);
  // 1 s at 1 000/s: 1 000 readings; s0 took 334 samples, s1 and s2 333 each.
  assert.equal(emitted.length, 1000);
  const s0 = emitted.filter((e) => e.sensor === 's0');
  assert.equal(s0.length, 334);
  assert.equal(emitted.filter((e) => e.sensor === 's2').length, 333);
  // counter: one step per sample, from its start (s0: 0, 1, ... 333; s2 from 200).
  assert.deepEqual([s0[0].value, s0[333].value], [0, 333]);
  assert.equal(emitted.filter((e) => e.sensor === 's2').at(-1)?.value, 200 + 332);
  assert.deepEqual(driver.health().paced, { rate: 1000, offered: 1000, skipped: 0 });
  await driver.stop();
  assert.equal(clock.pending(), 0, 'stop() cleared the pacer');
});

test('paced: a rate that is not a multiple of the tick carries the remainder over', async () => {
  // 150/s in 10 ms ticks is 1.5 per tick: 1, 2, 1, 2 ... → 15 in 100 ms.
  const { clock, emitted, driver } = paced({ rate: 150, tick: '10ms' });
  await driver.start();
  clock.advance(20);
  assert.equal(emitted.length, 3);
  clock.advance(80);
  assert.equal(emitted.length, 15);
  await driver.stop();
});

test('paced: after a stall it emits at most 100 ms of readings and counts the rest as skipped', async () => {
  const { clock, emitted, driver } = paced({ rate: 1000, tick: '10ms' });
  await driver.start();
  clock.advance(100);
  assert.equal(emitted.length, 100);
  // The loop stalls for 5 s: the ticks that were due fire late, all at 5 100 ms. The
  // first finds 5 000 readings due and may emit 100 ms × 1 000/s = 100; the others none.
  clock.set(5100);
  clock.advance(0);
  assert.equal(emitted.length, 100 + 100);
  assert.deepEqual(driver.health().paced, { rate: 1000, offered: 200, skipped: 5000 - 100 });
  // Then 10 per tick again.
  clock.advance(10);
  assert.equal(emitted.length, 210);
  await driver.stop();
});

test('paced: with ticks longer than 50 ms the catch-up is two ticks', async () => {
  const { clock, emitted, driver } = paced({ rate: 100, tick: '200ms' });
  await driver.start();
  clock.advance(200);
  assert.equal(emitted.length, 20);
  // Stalled 10 s: 1 000 due, two 200 ms ticks at 100/s = 40 emitted.
  clock.set(10_200);
  clock.advance(0);
  assert.equal(emitted.length, 20 + 40);
  assert.equal(driver.health().paced && (driver.health().paced as { skipped: number }).skipped, 1000 - 40);
  await driver.stop();
});

test('paced: the rate and tick are bounded in the config', () => {
  const bad = (pace: unknown) => simDriverSchema.safeParse({ kind: 'sim', id: 'x', pace }).success;
  assert.equal(bad({ rate: 0 }), false);
  assert.equal(bad({ rate: 2_000_000 }), false);
  assert.equal(bad({ rate: 10, tick: '0ms' }), false);
  assert.equal(bad({ rate: 10, tick: '2s' }), false);
  assert.equal(bad({ rate: 200_000, tick: '5ms' }), true);
});
