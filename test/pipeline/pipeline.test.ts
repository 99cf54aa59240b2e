import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Reading } from '../../src/core/reading';
import { buildPipelines, Pipeline, type TraceStep } from '../../src/pipeline/pipeline';
import { pipelineConfigSchema } from '../../src/pipeline/stages';
import { context, out, r } from './helpers';

function pipeline(stages: Record<string, unknown>[], latest: Record<string, Reading> = {}, sensor = 's'): Pipeline {
  return new Pipeline(pipelineConfigSchema.parse(stages), context(latest, sensor));
}

test('a pipeline runs every stage in order on the same reading object', () => {
  const p = pipeline([
    { kind: 'scale', rawMin: 4, rawMax: 20, min: 0, max: 10 },
    { kind: 'round', decimals: 1 },
  ]);
  const x = r(0, 7.1);
  // (7.1 - 4)·10/16 = 1.9375 → 1.9
  assert.equal(p.process(x), x);
  assert.deepEqual(out(x), [0, 1.9, 'good']);
});

test('a dropped reading stops the pipeline: later stages do not see it', () => {
  const p = pipeline([{ kind: 'range', max: 10 }, { kind: 'average', samples: 2 }]);
  // 4 → 4; 99 dropped before the average; 6 → (4 + 6)/2 = 5
  assert.deepEqual([4, 99, 6].map((v, i) => p.process(r(i, v))?.value ?? null), [4, null, 5]);
});

test('an empty pipeline passes readings through', () => {
  const x = r(0, 3);
  assert.equal(pipeline([]).process(x), x);
  assert.equal(pipeline([]).flushable, false);
});

test('flush passes a closed window through the stages after it, not before it', () => {
  const p = pipeline([
    { kind: 'scale', rawMin: 0, rawMax: 1, min: 0, max: 10 },
    { kind: 'aggregate', window: '1m', fn: 'mean' },
    { kind: 'round', decimals: 0 },
  ]);
  assert.equal(p.flushable, true);
  // raw 0.11, 0.2 → 1.1, 2 → mean 1.55 → round → 2 (the scale does not run again on the mean)
  assert.equal(p.process(r(1, 0.11)), null);
  assert.equal(p.process(r(1000, 0.2)), null);
  assert.deepEqual(p.flush(60_000), []);
  assert.deepEqual(p.flush(60_001).map(out), [[60_000, 2, 'good']]);
  assert.deepEqual(p.flush(120_001), []);
});

test('flush: chained aggregates line up, and an upstream window reaches the downstream one before it is flushed', () => {
  const p = pipeline([
    { kind: 'aggregate', window: '1m', fn: 'max' },
    { kind: 'aggregate', window: '2m', fn: 'sum' },
  ]);
  p.process(r(1, 5)); // 1m window (0, 1m]
  p.process(r(60_001, 7)); // closes (0, 1m] → max 5 stamped 1m → 2m window (0, 2m]; opens (1m, 2m]
  // flush at 2m + 1: (1m, 2m] closes → max 7 stamped 2m → still (0, 2m]; then the
  // downstream flush closes (0, 2m]: 5 + 7 = 12.
  assert.deepEqual(p.flush(120_001).map(out), [[120_000, 12, 'good']]);
  assert.deepEqual(p.flush(240_001), []);
});

test('trace shows the raw value and the value after each stage, and is the live processing', () => {
  const p = pipeline([
    { kind: 'scale', rawMin: 0, rawMax: 100, min: 0, max: 10 },
    { kind: 'deadband', threshold: 1 },
  ]);
  const steps = p.trace(r(0, 55));
  assert.deepEqual(steps, [
    { stage: 'raw', value: 55, quality: 'good', dropped: false },
    { stage: 'scale', value: 5.5, quality: 'good', dropped: false },
    { stage: 'deadband', value: 5.5, quality: 'good', dropped: false },
  ]);
  // The traced reading was processed for real: the deadband remembers 5.5.
  assert.deepEqual(p.trace(r(1, 56)), [
    { stage: 'raw', value: 56, quality: 'good', dropped: false },
    { stage: 'scale', value: 5.6000000000000005, quality: 'good', dropped: false },
    { stage: 'deadband', value: 5.6000000000000005, quality: 'good', dropped: true },
  ]);
  assert.equal(p.process(r(2, 55)), null);
});

test('traced returns the output as process does and fills the steps', () => {
  const p = pipeline([{ kind: 'range', max: 10, action: 'bad' }]);
  const steps: TraceStep[] = [];
  const x = r(0, 11);
  assert.equal(p.traced(x, steps), x);
  assert.deepEqual(steps.map((s) => [s.stage, s.value, s.quality, s.dropped]), [
    ['raw', 11, 'good', false],
    ['range', 11, 'bad', false],
  ]);
});

test('buildPipelines makes one pipeline per sensor, each with its own state and sensor id', () => {
  class Table {
    private readonly rows = new Map<string, Reading>([['t', r(0, 30)]]);
    latest(id: string) {
      return this.rows.get(id);
    }
  }
  const table = new Table();
  const aggregate = pipelineConfigSchema.parse([{ kind: 'aggregate', window: '1m', fn: 'count' }]);
  const ps = buildPipelines(
    [
      { id: 'a', pipeline: aggregate },
      { id: 'b', pipeline: aggregate },
      { id: 'c', pipeline: pipelineConfigSchema.parse([{ kind: 'compensate', sensor: 't', coefficient: 1, reference: 20 }]) },
    ],
    { clock: context().clock, latest: table.latest.bind(table) },
  );
  assert.deepEqual([...ps.keys()], ['a', 'b', 'c']);
  ps.get('a')?.process(r(1, 1));
  ps.get('a')?.process(r(2, 1));
  ps.get('b')?.process(r(1, 1));
  assert.deepEqual(ps.get('a')?.flush(60_001).map((x) => [x.sensor, x.value]), [['a', 2]]);
  assert.deepEqual(ps.get('b')?.flush(60_001).map((x) => [x.sensor, x.value]), [['b', 1]]);
  // 100 - 1·(30 - 20) = 90, through the table's latest()
  assert.equal(ps.get('c')?.process(r(0, 100))?.value, 90);
});

test('buildPipelines works with a context whose latest() is a prototype method', () => {
  class Hub {
    clock = context().clock;
    latest(id: string): Reading | undefined {
      return id === 't' ? r(0, 20) : undefined;
    }
  }
  const ps = buildPipelines([{ id: 'x', pipeline: pipelineConfigSchema.parse([{ kind: 'compensate', sensor: 't', coefficient: 1, reference: 20 }]) }], new Hub());
  assert.deepEqual(out(ps.get('x')?.process(r(0, 5)) ?? null), [0, 5, 'good']);
});
