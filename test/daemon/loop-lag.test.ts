import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, VirtualClock } from '../../src/core/clock';
import { LoopLag } from '../../src/daemon/loop-lag';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a synchronous stall, as a runaway handler would cause
  }
}

/** A lag meter over a virtual clock (its time is the monotonic time), and that clock. */
function virtual() {
  const clock = new VirtualClock(0);
  const lag = new LoopLag({ clock, monotonic: () => clock.now() });
  return { clock, lag, timers: lag.wrap(clock) };
}

test('no timer fired yet: no lag is claimed', () => {
  const { lag } = virtual();
  lag.enable();
  assert.deepEqual(lag.stats(), { meanMs: 0, p99Ms: 0, maxMs: 0 });
  lag.disable();
});

test("a stall shows as how late the daemon's own timer due in it fired", () => {
  const { clock, lag, timers } = virtual();
  lag.enable();
  let fired = 0;
  timers.setTimeout(() => fired++, 100);
  clock.set(300); // a 300 ms stall from 0: time passes, nothing can run
  clock.advance(0); // the loop is free again
  assert.equal(fired, 1);
  // Due at 100, ran at 300: 200 ms late.
  assert.equal(lag.stats().maxMs, 200);
  lag.disable();
});

test('with nothing else scheduled, the 1 s sampler bounds it: a stall of S ms shows as at least S − 1000 ms', () => {
  const { clock, lag } = virtual();
  lag.enable(); // sampler due at 1000
  clock.advance(200);
  clock.set(2_700); // a 2 500 ms stall from 200
  clock.advance(0);
  // The sampler fell due 800 ms into it and ran at its end: 1 700 ms late (≥ 2 500 − 1 000).
  assert.equal(lag.stats().maxMs, 1_700);
  lag.disable();
  assert.equal(clock.pending(), 0, 'disable() clears the sampler');
});

test('an interval that keeps time records no lag; one late firing is measured from the one before', () => {
  const { clock, lag, timers } = virtual();
  lag.enable();
  const h = timers.setInterval(() => {}, 100);
  clock.advance(300); // fires at 100, 200, 300: on time
  assert.equal(lag.stats().maxMs, 0);
  clock.set(450); // next due at 400, runs at 450
  clock.advance(0);
  const s = lag.stats();
  assert.equal(s.maxMs, 50);
  assert.ok(s.meanMs < s.maxMs, 'the on-time firings keep the mean below the stall');
  timers.clearInterval(h);
  lag.disable();
});

test('on the real event loop: a 300 ms stall makes a 50 ms timer at least ~250 ms late', async () => {
  const lag = new LoopLag({ clock: systemClock, monotonic: () => performance.now() });
  const timers = lag.wrap(systemClock);
  lag.enable();
  try {
    const fired = new Promise<void>((resolve) => timers.setTimeout(resolve, 50));
    block(300);
    await Promise.all([fired, sleep(10)]); // systemClock timers are unref'd: the sleep keeps the loop alive
    assert.ok(lag.stats().maxMs >= 245, `maxMs ${lag.stats().maxMs}`);
  } finally {
    lag.disable();
  }
});
