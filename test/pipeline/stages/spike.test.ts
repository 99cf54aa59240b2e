import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, feed, makeStage, values } from '../helpers';

test('spike maxRate rejects a change faster than maxRate·Δt against the last accepted reading', () => {
  const s = makeStage({ kind: 'spike', maxRate: 10 });
  // 1 s apart, so 10 per step is allowed:
  // 20 first → kept; 25: |5| ≤ 10 → kept; 60: |35| > 10 → dropped;
  // 30 at 3 s: vs 25 at 1 s, Δt = 2 s allows 20, |5| → kept.
  assert.deepEqual(values(s, [20, 25, 60, 30]), [20, 25, null, 30]);
});

test('spike accepts a genuine step after maxRejects consecutive rejects', () => {
  const s = makeStage({ kind: 'spike', maxRate: 1, maxRejects: 2 });
  // 80 vs 20: |60| > 1·1 → reject 1, reject 2, then the third 80 is the new level;
  // 81 vs the accepted 80: |1| ≤ 1 → kept.
  assert.deepEqual(values(s, [20, 80, 80, 80, 81]), [20, null, null, 80, 81]);
});

test('spike with action bad keeps the misfire, marked bad', () => {
  const s = makeStage({ kind: 'spike', maxRate: 1, action: 'bad' });
  assert.deepEqual(feed(s, [[0, 20], [1000, 500], [2000, 21]]), [
    [0, 20, 'good'],
    [1000, 500, 'bad'],
    [2000, 21, 'good'], // vs 20 at 0 s: Δt = 2 s allows 2, |1| → kept
  ]);
});

test('spike maxRate allows more change after a longer gap, none at the same timestamp', () => {
  const s = makeStage({ kind: 'spike', maxRate: 10 });
  // 80 at 10 s vs 20 at 0 s: allowed 10·10 = 100 ≥ 60 → kept.
  assert.deepEqual(feed(s, [[0, 20], [10_000, 80]]).map((o) => o?.[1]), [20, 80]);
  // Same timestamp: Δt = 0 allows no change at all, but an equal value is fine.
  assert.deepEqual(feed(s, [[10_000, 81], [10_000, 80]]).map((o) => o?.[1] ?? null), [null, 80]);
});

test('spike median replaces each value by the median of the last N accepted values', () => {
  const s = makeStage({ kind: 'spike', median: 3 });
  // [10] → 10; [10,12] → (10+12)/2 = 11; [10,12,100] → 12; [12,100,11] → 12; [100,11,13] → 13
  assert.deepEqual(values(s, [10, 12, 100, 11, 13]), [10, 11, 12, 12, 13]);
});

test('spike median with maxRate: rejected readings stay out of the median; a new level restarts it', () => {
  const s = makeStage({ kind: 'spike', maxRate: 5, median: 3, maxRejects: 1 });
  // 10 → [10] 10; 12 → [10,12] 11; 100: |88| > 5 → dropped, not in the median;
  // 14 → [10,12,14] 12; 50: rejected (1 of 1); 50 again → new level, window restarts: [50] → 50.
  assert.deepEqual(values(s, [10, 12, 100, 14, 50, 50]), [10, 11, null, 12, null, 50]);
});

test('spike: NaN follows the action without counting as a reject; bad readings leave the state alone', () => {
  const s = makeStage({ kind: 'spike', maxRate: 1, maxRejects: 1 });
  assert.deepEqual(
    feed(s, [
      [0, 20],
      [1000, NaN], // dropped, not a reject
      [2000, 500, 'bad'], // passed on untouched, not the "last accepted" reading
      [3000, 90], // vs 20 at 0 s: |70| > 3 → reject 1 of 1
      [4000, 21], // vs 20 at 0 s: allowed 4 → kept (the reject count resets)
    ]),
    [[0, 20, 'good'], null, [2000, 500, 'bad'], null, [4000, 21, 'good']],
  );
});

test('spike config: needs maxRate or median, median odd', () => {
  assert.match(configError({ kind: 'spike' }) ?? '', /needs maxRate, median or both/);
  assert.match(configError({ kind: 'spike', median: 4 }) ?? '', /median: median must be odd \(got 4\)/);
  assert.match(configError({ kind: 'spike', maxRate: -1 }) ?? '', /maxRate/);
});
