import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../src/config/load';
import type { Reading } from '../../../src/core/reading';
import { stageKind } from '../../../src/pipeline/stages';
import { compensateSchema } from '../../../src/pipeline/stages/compensate';
import { makeStage, out, r } from '../helpers';

function temp(ts: number, value: number | string, quality: Reading['quality'] = 'good'): Record<string, Reading> {
  return { 'boiler.temp': { sensor: 'boiler.temp', ts, value, quality, flags: 0 } };
}

const additive = { kind: 'compensate', sensor: 'boiler.temp', coefficient: 0.5, reference: 25 };

test('compensate additive: v - k·(T - Tref)', () => {
  const s = makeStage(additive, temp(0, 35));
  // 100 - 0.5·(35 - 25) = 95
  assert.deepEqual(out(s.process(r(1000, 100))), [1000, 95, 'good']);
});

test('compensate multiplicative: v / (1 + k·(T - Tref))', () => {
  const c = { ...additive, coefficient: 0.02, mode: 'multiplicative' };
  // 100 / (1 + 0.02·(35 - 25)) = 100 / 1.2 = 83.333...
  assert.ok(Math.abs((makeStage(c, temp(0, 35)).process(r(0, 100))?.value as number) - 100 / 1.2) < 1e-12);
  // 100 / (1 + 0.02·(15 - 25)) = 100 / 0.8 = 125
  assert.equal(makeStage(c, temp(0, 15)).process(r(0, 100))?.value, 125);
});

test('compensate marks the output bad, value unchanged, when the temperature is missing, bad, not a number or stale', () => {
  assert.deepEqual(out(makeStage(additive, {}).process(r(0, 100))), [0, 100, 'bad']);
  assert.deepEqual(out(makeStage(additive, temp(0, 35, 'bad')).process(r(0, 100))), [0, 100, 'bad']);
  assert.deepEqual(out(makeStage(additive, temp(0, 'ERR')).process(r(0, 100))), [0, 100, 'bad']);
  // maxAge defaults to 60 s: 60 000 ms old is still usable, 60 001 ms is not.
  assert.deepEqual(out(makeStage(additive, temp(0, 35)).process(r(60_000, 100))), [60_000, 95, 'good']);
  assert.deepEqual(out(makeStage(additive, temp(0, 35)).process(r(60_001, 100))), [60_001, 100, 'bad']);
  assert.deepEqual(out(makeStage({ ...additive, maxAge: '5s' }, temp(0, 35)).process(r(5001, 100))), [5001, 100, 'bad']);
});

test('compensate: an uncertain temperature makes the output uncertain', () => {
  assert.deepEqual(out(makeStage(additive, temp(0, 35, 'uncertain')).process(r(0, 100))), [0, 95, 'uncertain']);
});

test('compensate multiplicative: a divisor at or below zero marks the reading bad', () => {
  const c = { ...additive, coefficient: -0.1, mode: 'multiplicative' };
  // 1 + (-0.1)·(35 - 25) = 0
  assert.deepEqual(out(makeStage(c, temp(0, 35)).process(r(0, 100))), [0, 100, 'bad']);
});

test('compensate passes bad and string readings untouched and marks NaN bad', () => {
  const s = makeStage(additive, temp(0, 35));
  assert.deepEqual(out(s.process(r(0, 100, 'bad'))), [0, 100, 'bad']);
  assert.deepEqual(out(s.process(r(0, 'open'))), [0, 'open', 'good']);
  assert.deepEqual(out(s.process(r(0, -Infinity))), [0, -Infinity, 'bad']);
});

test('compensate declares the temperature sensor it reads', () => {
  assert.deepEqual(stageKind('compensate').references?.(compensateSchema.parse(additive)), ['boiler.temp']);
});

test('config load rejects a compensate stage that refers to an unknown sensor, with its position', () => {
  const yaml = [
    'gateway: { id: gw1 }',
    'drivers:',
    '  - kind: sim',
    '    id: sim1',
    '    sensors:',
    '      - id: tank.pressure',
    '        waveform: constant',
    '        pipeline:',
    '          - { kind: compensate, sensor: tank.temp, coefficient: 0.01, reference: 20 }',
    '',
  ].join('\n');
  const res = parseConfig('gw.yaml', yaml);
  assert.equal(res.ok, false);
  if (res.ok) return;
  assert.deepEqual(
    res.problems.map((p) => `${p.line}: ${p.message}`),
    ['9: stage compensate of "tank.pressure" refers to unknown sensor "tank.temp"'],
  );
  const fixed = parseConfig('gw.yaml', yaml + '      - { id: tank.temp, waveform: constant, value: 20 }\n');
  assert.equal(fixed.ok, true, JSON.stringify(fixed));
});
