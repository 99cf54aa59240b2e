import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feed, makeStage, values } from '../helpers';

test('deadband threshold: emit only when |v - last emitted| > threshold', () => {
  const s = makeStage({ kind: 'deadband', threshold: 0.5 });
  // 10 first → emit; 10.4: 0.4 → drop; 10.5: 0.5 not > 0.5 → drop; 10.6: 0.6 → emit;
  // 10.2 vs 10.6: 0.4 → drop; 11.2: 0.6 → emit
  assert.deepEqual(values(s, [10, 10.4, 10.5, 10.6, 10.2, 11.2]), [10, null, null, 10.6, null, 11.2]);
});

test('deadband percent: emit when the change exceeds percent of |last emitted|', () => {
  const s = makeStage({ kind: 'deadband', percent: 10 });
  // 100 → emit; 109: 9 ≤ 10 → drop; 111: 11 > 10 → emit; 100 vs 111: 11 ≤ 11.1 → drop; 99.8: 11.2 → emit
  assert.deepEqual(values(s, [100, 109, 111, 100, 99.8]), [100, null, 111, null, 99.8]);
  // From 0 any change is more than 10 % of 0.
  assert.deepEqual(values(makeStage({ kind: 'deadband', percent: 10 }), [0, 0, 0.001]), [0, null, 0.001]);
});

test('deadband threshold and percent: either one exceeded emits', () => {
  const s = makeStage({ kind: 'deadband', threshold: 5, percent: 1 });
  // 1000 → emit; 1006: 6 > 5 → emit; 1010: 4 ≤ 5 but 4 > 10.06 (1 %)? no → drop; 1017: 11 > 5 → emit
  assert.deepEqual(values(s, [1000, 1006, 1010, 1017]), [1000, 1006, null, 1017]);
  const p = makeStage({ kind: 'deadband', threshold: 50, percent: 1 });
  // 1000 → emit; 1011: 11 ≤ 50 but 11 > 10 (1 % of 1000) → emit
  assert.deepEqual(values(p, [1000, 1011]), [1000, 1011]);
});

test('deadband with neither threshold nor percent reports any change', () => {
  assert.deepEqual(values(makeStage({ kind: 'deadband' }), [5, 5, 5.0001, 5.0001]), [5, null, 5.0001, null]);
});

test('deadband emits a reading arriving maxInterval after the last emission even without change', () => {
  const s = makeStage({ kind: 'deadband', threshold: 1, maxInterval: '1m' });
  assert.deepEqual(
    feed(s, [[0, 10], [30_000, 10], [59_999, 10], [60_000, 10], [100_000, 10.5], [120_000, 10]]).map((o) => o?.[0] ?? null),
    [0, null, null, 60_000, null, 120_000],
  );
});

test('deadband always emits a quality change', () => {
  const s = makeStage({ kind: 'deadband', threshold: 1 });
  assert.deepEqual(feed(s, [[0, 10], [1, 10, 'uncertain'], [2, 10, 'uncertain'], [3, 10]]), [
    [0, 10, 'good'],
    [1, 10, 'uncertain'],
    null,
    [3, 10, 'good'],
  ]);
});

test('deadband passes bad, NaN and string readings on; the next good reading is a quality change', () => {
  const s = makeStage({ kind: 'deadband', threshold: 1 });
  assert.deepEqual(feed(s, [[0, 10], [1, 50, 'bad'], [2, 10.2], [3, 10.3], [4, Infinity], [5, 'x'], [6, 'x']]), [
    [0, 10, 'good'],
    [1, 50, 'bad'],
    [2, 10.2, 'good'], // bad → good
    null, // 0.1 from 10.2: the bad 50 was not remembered
    [4, Infinity, 'bad'],
    [5, 'x', 'good'],
    [6, 'x', 'good'],
  ]);
});
