import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, feed, makeStage, r, values } from '../helpers';

test('range keeps values inside [min, max] (limits inclusive) and drops the rest', () => {
  const s = makeStage({ kind: 'range', min: 0, max: 100 });
  assert.deepEqual(values(s, [50, 0, 100, -0.1, 100.1]), [50, 0, 100, null, null]);
});

test('range with action bad keeps the value and marks it bad', () => {
  const s = makeStage({ kind: 'range', max: 100, action: 'bad' });
  assert.deepEqual(feed(s, [[0, 150], [1, -1e9]]), [
    [0, 150, 'bad'],
    [1, -1e9, 'good'], // no lower limit
  ]);
});

test('range applies its action to NaN and ±Infinity', () => {
  const drop = makeStage({ kind: 'range', min: 0 });
  assert.deepEqual(values(drop, [NaN, Infinity, -Infinity]), [null, null, null]);
  const bad = makeStage({ kind: 'range', min: 0, action: 'bad' });
  assert.deepEqual(feed(bad, [[0, Infinity]]), [[0, Infinity, 'bad']]);
});

test('range passes bad-quality and string readings untouched', () => {
  const s = makeStage({ kind: 'range', min: 0, max: 1 });
  const bad = r(0, 500, 'bad');
  assert.equal(s.process(bad), bad);
  assert.deepEqual([bad.value, bad.quality], [500, 'bad']);
  assert.deepEqual(feed(s, [[1, 'OPEN']]), [[1, 'OPEN', 'good']]);
});

test('range config needs a limit and min <= max', () => {
  assert.match(configError({ kind: 'range' }) ?? '', /needs min, max or both/);
  assert.match(configError({ kind: 'range', min: 5, max: 1 }) ?? '', /min: min \(5\) is greater than max \(1\)/);
  assert.match(configError({ kind: 'range', min: 0, action: 'clip' }) ?? '', /action/);
});
