import { test } from 'node:test';
import assert from 'node:assert/strict';
import { everyOnGrid, VirtualClock, type Clock } from '../../src/core/clock';

test('grid timer: timers started at different moments fire at the same multiples of their period', () => {
  const clock = new VirtualClock(1_700_000_012_345);
  const a: number[] = [];
  const b: number[] = [];
  const first = everyOnGrid(clock, 1000, () => a.push(clock.now()));
  clock.advance(432); // …12 777
  const second = everyOnGrid(clock, 1000, () => b.push(clock.now()));
  clock.advance(3000); // to …15 777
  assert.deepEqual(a, [1_700_000_013_000, 1_700_000_014_000, 1_700_000_015_000]);
  assert.deepEqual(b, a);
  first.stop();
  second.stop();
  assert.equal(clock.pending(), 0);
});

test('grid timer: a firing late by a stall skips the points it missed; one a millisecond early still counts once', () => {
  const clock = new VirtualClock(1_700_000_000_000);
  const fired: number[] = [];
  const t = everyOnGrid(clock, 1000, () => fired.push(clock.now()));
  clock.advance(1000);
  clock.set(clock.now() + 3_400); // the loop was stuck 3.4 s: the timer runs at …04 400
  clock.advance(0);
  clock.advance(2000);
  assert.deepEqual(fired, [1_700_000_001_000, 1_700_000_004_400, 1_700_000_005_000, 1_700_000_006_000]);
  t.stop();

  // Node counts timers in whole loop milliseconds and may run one a little before its due time.
  const early: Clock = {
    now: () => clock.now(),
    setTimeout: (fn, ms) => clock.setTimeout(fn, Math.max(0, ms - 1)),
    clearTimeout: (h) => clock.clearTimeout(h),
    setInterval: (fn, ms) => clock.setInterval(fn, ms),
    clearInterval: (h) => clock.clearInterval(h),
  };
  assert.equal(clock.now(), 1_700_000_006_400);
  const times: number[] = [];
  const e = everyOnGrid(early, 1000, () => times.push(clock.now() - 1_700_000_000_000));
  clock.advance(5000);
  assert.deepEqual(times, [6999, 7999, 8999, 9999, 10_999], 'once per period, not again 1 ms later');
  e.stop();
  assert.equal(clock.pending(), 0);
});

test('grid timer: stop() from inside the callback ends it; other periods sit on their own grid', () => {
  const clock = new VirtualClock(1_700_000_000_250);
  let n = 0;
  const t = everyOnGrid(clock, 1000, () => {
    n++;
    if (n === 2) t.stop();
  });
  const fives: number[] = [];
  const f = everyOnGrid(clock, 5000, () => fives.push(clock.now()));
  clock.advance(12_000);
  assert.equal(n, 2);
  assert.deepEqual(fives, [1_700_000_005_000, 1_700_000_010_000]);
  f.stop();
  assert.equal(clock.pending(), 0);
});
