import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../src/core/reading';
import { STAGE_KINDS } from '../../src/pipeline/stages';
import { makeStage, r } from './helpers';

/**
 * The rules every stage follows (src/pipeline/input.ts), checked for every kind
 * in the registry. A new stage kind fails here until it has a sample config.
 */
const SAMPLE: Record<string, Record<string, unknown>> = {
  range: { kind: 'range', min: 0, max: 100 },
  spike: { kind: 'spike', maxRate: 5, median: 3 },
  linearize: { kind: 'linearize', table: [[0, 0], [100, 50]] },
  scale: { kind: 'scale', rawMin: 0, rawMax: 100, min: 0, max: 10 },
  compensate: { kind: 'compensate', sensor: 't', coefficient: 0.01, reference: 20 },
  hysteresis: { kind: 'hysteresis', band: 1 },
  average: { kind: 'average', samples: 3 },
  aggregate: { kind: 'aggregate', window: '10s', fn: 'mean' },
  deadband: { kind: 'deadband', threshold: 1 },
  round: { kind: 'round', decimals: 1 },
};
const temperature: Record<string, Reading> = { t: { sensor: 't', ts: 0, value: 30, quality: 'good', flags: 0 } };
const stage = (kind: string) => makeStage(SAMPLE[kind], temperature);

const GOOD: [number, number][] = [10, 12, 11, 30, 13, 14, 14.5, 60, 15, 15.2, 40, 16].map((v, i) => [i * 3000, v]);
const MARK = 128; // a flag bit that tells the interleaved readings apart in the output

for (const { kind } of STAGE_KINDS) {
  test(`${kind}: has a sample config in the contract suite`, () => assert.ok(SAMPLE[kind], `add a sample config for "${kind}"`));
  if (!SAMPLE[kind]) continue;

  test(`${kind}: bad-quality and string readings pass untouched (same object, same value and quality)`, () => {
    const s = stage(kind);
    for (const x of [r(0, 42, 'bad'), r(0, NaN, 'bad'), r(0, 'OPEN'), r(0, 'OPEN', 'uncertain')]) {
      const before = { ...x };
      assert.equal(s.process(x), x);
      assert.deepEqual(x, before);
    }
  });

  test(`${kind}: NaN and ±Infinity are dropped or marked bad, never passed on as good`, () => {
    const s = stage(kind);
    for (const v of [NaN, Infinity, -Infinity]) {
      const x = r(0, v);
      const o = s.process(x);
      if (o !== null) {
        assert.equal(o, x);
        assert.equal(o.quality, 'bad');
        assert.ok(Object.is(o.value, v), 'value unchanged');
      }
    }
  });

  test(`${kind}: a good reading comes back as the same object or null (no allocation per reading)`, () => {
    const s = stage(kind);
    for (const [ts, v] of GOOD) {
      const x = r(ts, v);
      const o = s.process(x);
      assert.ok(o === null || o === x);
    }
  });

  if (kind === 'deadband') continue; // a quality change always emits there: bad readings are meant to show
  test(`${kind}: bad, NaN and string readings in between do not change what good readings produce`, () => {
    const plain = stage(kind);
    const mixed = stage(kind);
    const expected = GOOD.map(([ts, v]) => plain.process(r(ts, v))).map((o) => o && [o.ts, o.value, o.quality]);
    const actual: unknown[] = [];
    for (const [ts, v] of GOOD) {
      for (const x of [r(ts, 1e6, 'bad', MARK), r(ts, NaN, 'good', MARK), r(ts, 'x', 'good', MARK)]) {
        const o = mixed.process(x);
        assert.ok(o === null || o.flags & MARK);
      }
      const o = mixed.process(r(ts, v));
      actual.push(o && [o.ts, o.value, o.quality]);
    }
    assert.deepEqual(actual, expected);
  });
}
