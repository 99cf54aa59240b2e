import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRuleSet, parseRuleTexts } from '../../src/rules/load';
import { formatProblem } from '../../src/config/yaml-source';
import { actuator, context } from './helpers';
import type { ActuatorTargetValue } from '../../drivers/driver';
import { modbusTargetValue } from '../../drivers/modbus/target-value';

const ctx = context(['furnace.temp', 'pump.flow'], [actuator({ id: 'furnace' }), actuator({ id: 'valve', type: 'number', min: 0, max: 100 })]);

function problems(text: string): string[] {
  const res = parseRuleTexts([{ file: 'r.yaml', text }], ctx);
  assert.equal(res.ok, false, 'expected the rule file to be rejected');
  return res.ok ? [] : res.problems.map(formatProblem);
}

test('a valid rule compiles with its inputs and actuators', () => {
  const res = parseRuleTexts(
    [{ file: 'r.yaml', text: 'rules:\n  - id: hot\n    when: furnace.temp > 80\n    until: furnace.temp < 75\n    then:\n      - set: { actuator: furnace, value: false }\n' }],
    ctx,
  );
  assert.ok(res.ok);
  assert.deepEqual(res.rules[0].inputs, ['furnace.temp']);
  assert.deepEqual(res.rules[0].actuators, ['furnace']);
});

test('expression errors point at the column inside a plain scalar', () => {
  // "    when: " is 10 characters, so the expression starts at column 11; the second ">" is at offset 18 → col 29.
  assert.deepEqual(problems('rules:\n  - id: hot\n    when: furnace.temp > 80 >\n    then:\n      - clear: true\n'), [
    'r.yaml:3:29: comparisons do not chain; write "a < b and b < c"',
  ]);
});

test('expression errors point at the column inside a quoted scalar', () => {
  // the scalar starts at col 11 with the quote; the expression at col 12; "pump.flo" at offset 22 → col 34.
  assert.deepEqual(problems('rules:\n  - id: hot\n    when: "furnace.temp > 80 and pump.flo < 1"\n    then:\n      - clear: true\n'), [
    'r.yaml:3:34: unknown sensor "pump.flo"',
  ]);
});

test('expression errors inside a literal block scalar point at the line and column', () => {
  const text = 'rules:\n  - id: hot\n    when: |\n      furnace.temp > 80\n        and pump.flow <\n    then:\n      - clear: true\n';
  // The expression ends after "        and pump.flow <" on line 5 (23 characters), so the error is at col 24.
  assert.deepEqual(problems(text), ['r.yaml:5:24: unexpected end of expression; expected a value']);
});

test('schema errors and unknown keys carry line:col', () => {
  assert.deepEqual(problems('rules:\n  - id: hot\n    when: furnace.temp > 80\n    for: 5 sec\n    then:\n      - clear: true\n'), [
    'r.yaml:4:10: rules.0.for: expected a duration such as "500ms", "10s", "5m", "1h" or "1d"',
  ]);
  assert.deepEqual(problems('rules:\n  - id: hot\n    when: furnace.temp > 80\n    thne:\n      - clear: true\n'), [
    'r.yaml:2:5: rules.0: a rule with `when:` needs a non-empty `then:` list',
    'r.yaml:4:5: unknown key "thne" in rules.0',
  ]);
});

test('unknown actuator, wrong value type and out-of-range values are errors at their position', () => {
  const text = [
    'rules:',
    '  - id: a',
    '    when: pump.flow < 1',
    '    then:',
    '      - set: { actuator: pump, value: false }',
    '      - set: { actuator: furnace, value: 1 }',
    '      - set: { actuator: valve, value: 150 }',
    '',
  ].join('\n');
  assert.deepEqual(problems(text), [
    'r.yaml:5:26: unknown actuator "pump" (actuators: furnace, valve)',
    'r.yaml:6:42: actuator "furnace" is on/off: value must be true or false, not 1',
    'r.yaml:7:40: value 150 is above the maximum 100 of actuator "valve"',
  ]);
});

test('duplicate rule ids across files are reported', () => {
  const text = 'rules:\n  - id: a\n    when: pump.flow < 1\n    then:\n      - clear: true\n';
  const res = parseRuleTexts([{ file: 'one.yaml', text }, { file: 'two.yaml', text }], ctx);
  assert.ok(!res.ok);
  assert.deepEqual(res.problems.map(formatProblem), ['two.yaml:2:9: duplicate rule id "a" (first defined in one.yaml)']);
});

test('event messages: unknown placeholders are errors; pid output must be a number actuator', () => {
  assert.deepEqual(
    problems('rules:\n  - id: a\n    when: pump.flow < 1\n    then:\n      - event: { severity: alarm, message: "dry {pump.flw}" }\n'),
    ['r.yaml:5:50: unknown sensor "pump.flw" in message'],
  );
  assert.deepEqual(problems('rules:\n  - id: p\n    pid: { input: furnace.temp, setpoint: 70, output: furnace }\n'), [
    'r.yaml:3:55: pid output "furnace" is an on/off actuator; a pid needs a number actuator',
  ]);
});

test('loadRuleSet reads every *.yaml in a directory; a YAML syntax error is positioned', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rules-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'rules:\n  - id: a\n    when: pump.flow < 1\n    then:\n      - clear: true\n');
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
  const ok = loadRuleSet(dir, ctx);
  assert.ok(ok.ok);
  assert.equal(ok.rules.length, 1);
  fs.writeFileSync(path.join(dir, 'b.yaml'), 'rules:\n  - id: b\n    when: [\n');
  const bad = loadRuleSet(dir, ctx);
  assert.ok(!bad.ok);
  assert.match(formatProblem(bad.problems[0]), /b\.yaml:\d+:\d+: /);
});

test('a set value its target cannot hold exactly is refused at its position unless the actuator sets round: true', () => {
  const bus = { device: 'plc', register: 'holding' };
  const int16 = context(
    ['pump.flow'],
    [
      actuator({ id: 'setpoint', type: 'number', driver: 'bus', target: { ...bus, address: 7, type: 'int16' } }),
      actuator({ id: 'flow', type: 'number', driver: 'bus', round: true, target: { ...bus, address: 8, type: 'uint16', scale: 0.5 } }),
    ],
  );
  const text = [
    'rules:',
    '  - id: a',
    '    when: pump.flow < 1',
    '    then:',
    '      - set: { actuator: setpoint, value: 12.7 }',
    '      - set: { actuator: setpoint, value: 70000 }',
    '      - set: { actuator: setpoint, value: 13 }',
    '      - set: { actuator: flow, value: 10.3 }',
    '',
  ].join('\n');
  const targetValue: ActuatorTargetValue = (a, v) => (a.driver === 'bus' ? modbusTargetValue(a.target, v) : undefined);
  const res = parseRuleTexts([{ file: 'r.yaml', text }], { ...int16, targetValue });
  assert.equal(res.ok, false);
  // "      - set: { actuator: setpoint, value: " is 42 characters: the value starts at col 43
  assert.deepEqual(res.ok ? [] : res.problems.map(formatProblem), [
    'r.yaml:5:43: 12.7 cannot be written exactly to actuator "setpoint" (its target would hold 13); set 13, or set round: true on the actuator',
    'r.yaml:6:43: 70000 does not fit the int16 register 7',
  ]);
  assert.equal(parseRuleTexts([{ file: 'r.yaml', text }], int16).ok, true, 'without the driver kinds (no gateway config) the target is not checked');
});
