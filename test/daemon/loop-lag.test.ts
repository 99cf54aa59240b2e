import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopLag } from '../../src/daemon/loop-lag';

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // a synchronous stall, as a runaway handler would cause
  }
}

test('a 300 ms stall of the event loop shows as at least ~200 ms of lag at the default (100 ms) sampling', async () => {
  const lag = new LoopLag();
  assert.equal(lag.resolutionMs, 100);
  lag.enable();
  try {
    assert.deepEqual(lag.stats(), { meanMs: 0, p99Ms: 0, maxMs: 0 }, 'no sample yet: no lag claimed');
    await sleep(150); // at least one on-time sample
    block(300);
    await sleep(250); // the late sample is recorded when the timer finally fires
    const s = lag.stats();
    // The timer was due at most 100 ms into the 300 ms stall, so it fired ≥ 200 ms late.
    assert.ok(s.maxMs >= 195, `maxMs ${s.maxMs}`);
    assert.ok(s.meanMs < s.maxMs, 'the on-time samples keep the mean below the stall');
  } finally {
    lag.disable();
  }
});
