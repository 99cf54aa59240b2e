import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, feed, makeStage, values } from '../helpers';

const table = [
  [0, 0],
  [10, 100],
  [20, 150],
];

test('linearize table interpolates between points', () => {
  const s = makeStage({ kind: 'linearize', table });
  // 5: 0 + (100-0)·(5-0)/(10-0) = 50; 10: a point, 100; 15: 100 + (150-100)·(15-10)/(20-10) = 125
  assert.deepEqual(values(s, [5, 10, 15, 0, 20]), [50, 100, 125, 0, 150]);
});

test('linearize table clamps outside the points by default', () => {
  const s = makeStage({ kind: 'linearize', table });
  assert.deepEqual(values(s, [-5, 25]), [0, 150]);
});

test('linearize table extrapolates the end segments when asked', () => {
  const s = makeStage({ kind: 'linearize', table, outside: 'extrapolate' });
  // -5: 0 + 100·(-5-0)/10 = -50; 25: 100 + 50·(25-10)/10 = 175
  assert.deepEqual(values(s, [-5, 25]), [-50, 175]);
});

test('linearize polynomial evaluates c0 + c1·x + c2·x²', () => {
  const s = makeStage({ kind: 'linearize', polynomial: [1, 2, 3] });
  // x=2: 1 + 2·2 + 3·4 = 17; x=-1: 1 - 2 + 3 = 2; x=0: 1
  assert.deepEqual(values(s, [2, -1, 0]), [17, 2, 1]);
  assert.deepEqual(values(makeStage({ kind: 'linearize', polynomial: [7] }), [123]), [7]);
});

test('linearize: an overflowing result marks the reading bad, value unchanged; NaN marked bad; bad passes', () => {
  const s = makeStage({ kind: 'linearize', polynomial: [0, 0, 1] });
  // (1e200)² = 1e400 → Infinity
  assert.deepEqual(feed(s, [[0, 1e200], [1, NaN], [2, 3, 'bad'], [3, 'open']]), [
    [0, 1e200, 'bad'],
    [1, NaN, 'bad'],
    [2, 3, 'bad'],
    [3, 'open', 'good'],
  ]);
});

test('linearize config: exactly one of table or polynomial, x strictly increasing', () => {
  assert.match(configError({ kind: 'linearize' }) ?? '', /exactly one of table or polynomial/);
  assert.match(configError({ kind: 'linearize', table, polynomial: [1] }) ?? '', /exactly one of table or polynomial/);
  assert.match(configError({ kind: 'linearize', table: [[0, 0], [0, 1]] }) ?? '', /table\.1\.0: table x values must be strictly increasing \(0 after 0\)/);
  assert.match(configError({ kind: 'linearize', table: [[0, 0]] }) ?? '', /table/);
  assert.match(configError({ kind: 'linearize', polynomial: [1], outside: 'clamp' }) ?? '', /outside applies to table only/);
});
