import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { Debouncer } from '../../drivers/gpio/debounce';
import type { Level } from '../../drivers/gpio/line';

function setup(windowMs: number) {
  const clock = new VirtualClock(1_000_000);
  const events: [Level, number][] = [];
  const d = new Debouncer(clock, windowMs, (v, ts) => events.push([v, ts]));
  d.prime(0);
  /** Raw edges at absolute offsets from the start (ms). */
  const edges = (train: [number, Level][]) => {
    let at = 0;
    for (const [t, v] of train) {
      clock.advance(t - at);
      at = t;
      d.edge(v, clock.now());
    }
  };
  return { clock, d, events, edges };
}

test('a bouncy train within the window yields one event, once the level was stable for the window', () => {
  const { clock, events, edges } = setup(20);
  edges([[0, 1], [2, 0], [3, 1], [7, 0], [9, 1]]); // contact closes with 4 bounces over 9 ms
  clock.advance(19); // 28 ms: last edge at 9 + window 20 = 29 not reached yet
  assert.deepEqual(events, []);
  clock.advance(1);
  assert.deepEqual(events, [[1, 1_000_000]]); // stamped with the first edge of the train
});

test('a glitch that returns to the accepted level within the window yields no event', () => {
  const { clock, d, events, edges } = setup(20);
  edges([[0, 1], [5, 0]]);
  clock.advance(100);
  assert.deepEqual(events, []);
  assert.equal(d.bounces, 1);
  assert.equal(d.edges, 2);
});

test('two trains separated by more than the window give two events', () => {
  const { clock, events, edges } = setup(10);
  edges([[0, 1], [1, 0], [2, 1], [50, 0], [51, 1], [53, 0]]);
  clock.advance(10);
  assert.deepEqual(events, [
    [1, 1_000_000],
    [0, 1_000_050],
  ]);
});

test('window 0: every change of level is an event at once; repeats of the same level are not', () => {
  const { events, edges } = setup(0);
  edges([[0, 1], [1, 1], [2, 0]]);
  assert.deepEqual(events, [
    [1, 1_000_000],
    [0, 1_000_002],
  ]);
});

test('dispose clears the pending timer', () => {
  const { clock, d, edges } = setup(20);
  edges([[0, 1]]);
  assert.equal(clock.pending(), 1);
  d.dispose();
  assert.equal(clock.pending(), 0);
});
