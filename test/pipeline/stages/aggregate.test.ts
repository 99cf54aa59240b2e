import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlushableStage } from '../../../src/pipeline/stage';
import { isFlushable } from '../../../src/pipeline/stage';
import { configError, feed, makeStage, out, r } from '../helpers';

function agg(fn: string, window = '1m'): FlushableStage {
  const s = makeStage({ kind: 'aggregate', window, fn });
  assert.ok(isFlushable(s));
  return s;
}

test('aggregate mean emits one reading per window, stamped with the window end, when a later reading arrives', () => {
  const s = agg('mean');
  assert.deepEqual(feed(s, [[1, 10], [20_000, 20], [60_000, 30], [60_001, 40]]), [
    null,
    null,
    null,
    [60_000, 20, 'good'], // window (0, 60 000]: (10 + 20 + 30) / 3 = 20
  ]);
});

test('aggregate windows are right-closed: a reading on a boundary belongs to the window ending there', () => {
  const s = agg('count');
  // 0 is in (-60 000, 0]; 60 000 in (0, 60 000]; 60 001 in (60 000, 120 000]
  assert.deepEqual(feed(s, [[0, 1], [60_000, 1], [60_001, 1]]), [null, [0, 1, 'good'], [60_000, 1, 'good']]);
});

test('aggregate flush(now) closes the open window once now is past its end', () => {
  const s = agg('mean');
  s.process(r(60_001, 40));
  assert.equal(s.flush(120_000), null, 'a reading stamped 120 000 may still arrive');
  const f = s.flush(120_001);
  assert.deepEqual([f?.sensor, ...(out(f) ?? [])], ['s', 120_000, 40, 'good']);
  assert.equal(s.flush(500_000), null, 'nothing open any more');
});

test('aggregate fns over one window of 20, 10, 30', () => {
  const expected: Record<string, number> = { mean: 20, min: 10, max: 30, last: 30, count: 3, sum: 60 };
  for (const [fn, want] of Object.entries(expected)) {
    const s = agg(fn);
    feed(s, [[1, 20], [2, 10], [3, 30]]);
    assert.equal(s.flush(60_001)?.value, want, fn);
  }
});

test('aggregate: an empty window emits nothing, not even count 0', () => {
  const s = agg('count');
  assert.deepEqual(feed(s, [[1, 1], [180_001, 1]]), [null, [60_000, 1, 'good']]);
  // Windows (60 s, 120 s] and (120 s, 180 s] had no readings: nothing for them.
  assert.deepEqual(out(s.flush(240_001)), [240_000, 1, 'good']);
});

test('aggregate windows end at multiples of the window since the epoch', () => {
  const s = agg('max', '1m');
  // 90 s is in (60 s, 120 s]; 130 s in (120 s, 180 s]
  assert.deepEqual(feed(s, [[90_000, 5], [130_000, 7]]), [null, [120_000, 5, 'good']]);
});

test('aggregate carries the flags of its readings and is uncertain if any reading was', () => {
  const s = agg('mean');
  feed(s, [[1, 1, 'uncertain']]);
  s.process(r(2, 3, 'good', 2));
  const f = s.flush(60_001);
  assert.deepEqual([f?.value, f?.quality, f?.flags], [2, 'uncertain', 2]);
});

test('aggregate passes bad readings on at once without counting them; NaN marked bad', () => {
  const s = agg('mean');
  assert.deepEqual(feed(s, [[1, 10], [2, 1000, 'bad'], [3, NaN], [4, 20], [60_001, 0]]), [
    null,
    [2, 1000, 'bad'],
    [3, NaN, 'bad'],
    null,
    [60_000, 15, 'good'], // (10 + 20) / 2
  ]);
});

test('aggregate flush with no reading yet returns nothing', () => {
  assert.equal(agg('mean').flush(1e12), null);
});

test('aggregate config: window required and > 0, fn known', () => {
  assert.match(configError({ kind: 'aggregate' }) ?? '', /window/);
  assert.match(configError({ kind: 'aggregate', window: '0s' }) ?? '', /window must be longer than 0/);
  assert.match(configError({ kind: 'aggregate', window: '1m', fn: 'median' }) ?? '', /fn/);
});
