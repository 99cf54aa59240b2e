import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, feed, makeStage, values } from '../helpers';

test('hysteresis holds the last output while the value stays within ±band of it', () => {
  const s = makeStage({ kind: 'hysteresis', band: 0.5 });
  // 10 first → 10; 10.3: |0.3| ≤ 0.5 → 10; 10.5: |0.5| not > 0.5 → 10; 10.6: |0.6| → 10.6;
  // 10.2: |0.4| → 10.6; 9.9: |0.7| → 9.9
  assert.deepEqual(values(s, [10, 10.3, 10.5, 10.6, 10.2, 9.9]), [10, 10, 10, 10.6, 10.6, 9.9]);
});

test('hysteresis: bad readings pass untouched and do not move the output; NaN is marked bad', () => {
  const s = makeStage({ kind: 'hysteresis', band: 1 });
  assert.deepEqual(feed(s, [[0, 10], [1, 50, 'bad'], [2, NaN], [3, 10.8], [4, 'x']]), [
    [0, 10, 'good'],
    [1, 50, 'bad'],
    [2, NaN, 'bad'],
    [3, 10, 'good'], // still within 1 of 10: the bad 50 did not become the output
    [4, 'x', 'good'],
  ]);
});

test('hysteresis band 0 changes the output on any change', () => {
  assert.deepEqual(values(makeStage({ kind: 'hysteresis', band: 0 }), [1, 1, 1.001]), [1, 1, 1.001]);
  assert.match(configError({ kind: 'hysteresis', band: -1 }) ?? '', /band/);
});
