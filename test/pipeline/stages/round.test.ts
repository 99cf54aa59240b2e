import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feed, makeStage, values } from '../helpers';

test('round keeps decimals, half away from zero, despite binary representation', () => {
  // 1.005·100 = 100.49999999999999 in binary; the intended 1.01 is kept.
  assert.deepEqual(values(makeStage({ kind: 'round', decimals: 2 }), [1.005, -1.005, 2.344]), [1.01, -1.01, 2.34]);
  assert.deepEqual(values(makeStage({ kind: 'round', decimals: 0 }), [2.5, -2.5, 0.4]), [3, -3, 0]);
});

test('round marks NaN bad and passes bad and string readings untouched', () => {
  assert.deepEqual(feed(makeStage({ kind: 'round' }), [[0, NaN], [1, 1.23456, 'bad'], [2, 'x']]), [
    [0, NaN, 'bad'],
    [1, 1.23456, 'bad'],
    [2, 'x', 'good'],
  ]);
});
