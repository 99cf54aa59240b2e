import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configError, makeStage, values } from '../helpers';
import { Pipeline } from '../../../src/pipeline/pipeline';
import { pipelineConfigSchema } from '../../../src/pipeline/stages';
import { context, r } from '../helpers';

function close(actual: (number | string | null)[], expected: number[]) {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) => assert.ok(Math.abs((a as number) - expected[i]) < 1e-9, `#${i}: ${a} vs ${expected[i]}`));
}

test('scale maps 16-bit counts to 0-20 mA', () => {
  const s = makeStage({ kind: 'scale', rawMin: 0, rawMax: 65535, min: 0, max: 20 });
  // 13107 = 65535/5 → 20/5 = 4 mA; 65535 → 20 mA; 0 → 0 mA
  close(values(s, [13107, 65535, 0]), [4, 20, 0]);
});

test('scale chains counts → mA → bar (4-20 mA is 0-10 bar)', () => {
  const p = new Pipeline(
    pipelineConfigSchema.parse([
      { kind: 'scale', rawMin: 0, rawMax: 65535, min: 0, max: 20 },
      { kind: 'scale', rawMin: 4, rawMax: 20, min: 0, max: 10 },
    ]),
    context(),
  );
  // 39321 counts = 0.6·65535 → 12 mA → (12-4)·10/16 = 5 bar
  close([p.process(r(0, 39321))?.value ?? null], [5]);
});

test('scale in one stage from a 15-bit ADC where 32768 counts is 20 mA', () => {
  // 4 mA = 32768·4/20 = 6553.6 counts. 19660.8 counts = 12 mA → 5 bar:
  // 0 + (19660.8 - 6553.6)·10/(32768 - 6553.6) = 13107.2·10/26214.4 = 5
  const s = makeStage({ kind: 'scale', rawMin: 6553.6, rawMax: 32768, min: 0, max: 10 });
  close(values(s, [19660.8, 6553.6, 32768]), [5, 0, 10]);
});

test('scale keeps out-of-span values unless clamp is set', () => {
  const free = makeStage({ kind: 'scale', rawMin: 4, rawMax: 20, min: 0, max: 10 });
  // 3 mA: (3-4)·10/16 = -0.625; 21 mA: (21-4)·10/16 = 10.625
  close(values(free, [3, 21]), [-0.625, 10.625]);
  const clamped = makeStage({ kind: 'scale', rawMin: 4, rawMax: 20, min: 0, max: 10, clamp: true });
  close(values(clamped, [3, 21]), [0, 10]);
});

test('scale with an inverted span clamps to the span, whichever end is larger', () => {
  const s = makeStage({ kind: 'scale', rawMin: 0, rawMax: 10, min: 100, max: 0, clamp: true });
  // 2.5: 100 + 2.5·(0-100)/10 = 75; -1 → 110 → 100; 11 → -10 → 0
  close(values(s, [2.5, -1, 11]), [75, 100, 0]);
});

test('scale config: rawMin and rawMax must differ', () => {
  assert.match(configError({ kind: 'scale', rawMin: 4, rawMax: 4, min: 0, max: 1 }) ?? '', /rawMax: rawMin and rawMax must differ/);
  assert.match(configError({ kind: 'scale', rawMin: 4, rawMax: 20 }) ?? '', /min/);
});
