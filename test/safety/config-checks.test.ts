import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load';
import { formatProblem } from '../../src/config/yaml-source';
import { parseRuleTexts } from '../../src/rules/load';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { actuator, context } from '../rules/helpers';
import { fieldgate } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

// Issue 10, cases 4 and 6: mistakes that used to pass `config check` / `rules check`.

function configProblems(text: string): string[] {
  const res = parseConfig('gw.yaml', text);
  return res.ok ? [] : res.problems.map(formatProblem);
}

function ruleProblems(text: string): string[] {
  const res = parseRuleTexts([{ file: 'r.yaml', text }], context(['tank.level'], [actuator({ id: 'valve', type: 'number', min: 0, max: 100 })]));
  return res.ok ? [] : res.problems.map(formatProblem);
}

const GW = (sensor: string, actuators = '') => `gateway: { id: gw }
drivers:
  - kind: sim
    id: sim
    outputs: { valve: 0 }
    sensors:
      - ${sensor}
actuators:
${actuators || '  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100, failsafe: 0 }'}
`;

test('a bare number as a sensor interval is an error that says how to write it', () => {
  // "interval: 5" was read as 5 ms (180 readings/s were seen); it sits at line 7, column 52.
  assert.deepEqual(configProblems(GW('{ id: tank.level, waveform: sine, interval: 5 }')), [
    'gw.yaml:7:53: drivers.0.sensors.0.interval: a bare number is not a duration: write it with a unit, e.g. "5s" for seconds or "5ms" for milliseconds',
  ]);
});

test('0 is a duration in every unit and stays accepted; "5s" is 5000 ms', () => {
  const res = parseConfig('gw.yaml', GW('{ id: tank.level, waveform: sine, interval: 5s }').replace('failsafe: 0 }', 'failsafe: 0, minOn: 0 }'));
  assert.ok(res.ok, res.ok ? '' : res.problems.map(formatProblem).join('\n'));
  assert.equal(res.value.sensors[0].intervalMs, 5000);
  assert.equal(res.value.config.actuators[0].minOn, 0);
});

test('a bare number as a rule\'s for: is an error at its position', () => {
  const text = 'rules:\n  - id: high\n    when: tank.level > 80\n    for: 5\n    then:\n      - set: { actuator: valve, value: 0 }\n';
  assert.deepEqual(ruleProblems(text), [
    'r.yaml:4:10: rules.0.for: a bare number is not a duration: write it with a unit, e.g. "5s" for seconds or "5ms" for milliseconds',
  ]);
});

test('a failsafe value outside the actuator\'s range fails config check at its position', () => {
  const act = '  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100, failsafe: 150 }';
  assert.deepEqual(configProblems(GW('{ id: tank.level, waveform: sine }', act)), [
    'gw.yaml:9:100: actuators.0.failsafe: value 150 is above the maximum 100 of actuator "valve"',
  ]);
});

test('failsafe and initial values of the wrong type fail config check', () => {
  const act = [
    '  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100, initial: true }',
    '  - { id: pump, driver: sim, target: { output: valve }, failsafe: 0 }',
  ].join('\n');
  assert.deepEqual(configProblems(GW('{ id: tank.level, waveform: sine }', act)), [
    'gw.yaml:9:99: actuators.0.initial: actuator "valve" takes a number, not true',
    'gw.yaml:10:67: actuators.1.failsafe: actuator "pump" is on/off: value must be true or false, not 0',
  ]);
});

test('fieldgate config check (a real CLI run) refuses each mistake with FILE:LINE:COL and exit 1', async (t) => {
  const dir = tempDir(t, 'fg-check-');
  const bare = path.join(dir, 'bare.yaml');
  fs.writeFileSync(bare, GW('{ id: tank.level, waveform: sine, interval: 5 }'));
  const act = '  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100, failsafe: 150 }';
  const range = path.join(dir, 'range.yaml');
  fs.writeFileSync(range, GW('{ id: tank.level, waveform: sine }', act));
  const [a, b] = await Promise.all([fieldgate(['config', 'check', bare]), fieldgate(['config', 'check', range])]);
  assert.equal(a.code, 1);
  assert.match(a.stderr, /bare\.yaml:7:53: drivers\.0\.sensors\.0\.interval: a bare number is not a duration/);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /range\.yaml:9:100: actuators\.0\.failsafe: value 150 is above the maximum 100 of actuator "valve"/);
});
