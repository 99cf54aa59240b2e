import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, feed, makeStage, r, values } from '../helpers';

test('average over samples: mean of the last N readings', () => {
  const s = makeStage({ kind: 'average', samples: 3 });
  // [1] 1; [1,2] 1.5; [1,2,3] 2; [2,3,4] 3; [3,4,5] 4
  assert.deepEqual(values(s, [1, 2, 3, 4, 5]), [1, 1.5, 2, 3, 4]);
});

test('average over a time window (ts - window, ts] by reading timestamps', () => {
  const s = makeStage({ kind: 'average', window: '10s' });
  assert.deepEqual(
    feed(s, [
      [0, 10], // [10] → 10
      [5000, 20], // [10,20] → 15
      [10_000, 30], // ts 0 is not > 10 000 - 10 000: it leaves → [20,30] → 25
      [20_000, 40], // 5000 and 10 000 leave → [40] → 40
    ]).map((o) => o?.[1]),
    [10, 15, 25, 40],
  );
});

test('average with samples and window: a reading leaves when either limit says so', () => {
  const s = makeStage({ kind: 'average', samples: 2, window: '1m' });
  // [1] 1; [1,3] 2; [3,5] 4 (samples); at 120 s the others are older than 1 m → [7] 7
  assert.deepEqual(
    feed(s, [[0, 1], [1000, 3], [2000, 5], [120_000, 7]]).map((o) => o?.[1]),
    [1, 2, 4, 7],
  );
});

test('average: bad and NaN readings pass on without entering the average', () => {
  const s = makeStage({ kind: 'average', samples: 2 });
  assert.deepEqual(feed(s, [[0, 10], [1, 1000, 'bad'], [2, NaN], [3, 'x'], [4, 20]]), [
    [0, 10, 'good'],
    [1, 1000, 'bad'],
    [2, NaN, 'bad'],
    [3, 'x', 'good'],
    [4, 15, 'good'], // (10 + 20) / 2
  ]);
});

test('average: an uncertain reading is averaged and keeps its quality', () => {
  const s = makeStage({ kind: 'average', samples: 2 });
  assert.deepEqual(feed(s, [[0, 10], [1, 20, 'uncertain']]), [[0, 10, 'good'], [1, 15, 'uncertain']]);
});

test('average by time grows its buffer while a long window fills', () => {
  const s = makeStage({ kind: 'average', window: '1h' });
  let last = 0;
  // 1..1000 at 1 s: all inside the hour; mean = (1 + 1000)/2 = 500.5
  for (let i = 1; i <= 1000; i++) last = s.process(r(i * 1000, i))?.value as number;
  assert.equal(last, 500.5);
});

test('average: the running sum does not drift over a million large readings', () => {
  const s = makeStage({ kind: 'average', samples: 4 });
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 1_000_000; i++) s.process(r(i, rand() * 1e12));
  let v = 0;
  for (let i = 0; i < 4; i++) v = s.process(r(2e6 + i, 0.1))?.value as number;
  // Exact answer 0.1; a running sum never re-added would be off by ~0.1 here.
  assert.ok(Math.abs(v - 0.1) < 1e-3, `average ${v}`);
});

test('average config: samples or window', () => {
  assert.match(configError({ kind: 'average' }) ?? '', /needs samples, window or both/);
  assert.match(configError({ kind: 'average', window: 0 }) ?? '', /window must be longer than 0/);
  assert.match(configError({ kind: 'average', window: '10 parsecs' }) ?? '', /duration/);
});
