import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatProblem } from '../../src/config/yaml-source';
import { parseRuleTexts } from '../../src/rules/load';
import { fieldgate } from '../helpers/cli';
import { tempDir } from '../helpers/temp';
import { actuator, context } from '../rules/helpers';

// Issue 10, case 7: two safety rules forcing one actuator to opposite values.
const ctx = context(['furnace.temp', 'gas.pressure'], [actuator({ id: 'furnace' }), actuator({ id: 'valve', type: 'number', min: 0, max: 100 })]);

const safety = (id: string, when: string, value: string, until?: string) =>
  `  - id: ${id}\n    safety: true\n    when: ${when}\n${until ? `    until: ${until}\n` : ''}    then:\n      - set: { actuator: furnace, value: ${value} }\n`;

function problems(text: string): string[] {
  const res = parseRuleTexts([{ file: 'r.yaml', text }], ctx);
  return res.ok ? [] : res.problems.map(formatProblem);
}

test('rules check reports two safety rules that can force one actuator to opposite values (a real CLI run)', async (t) => {
  const dir = tempDir(t, 'fg-conflict-');
  const config = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(
    config,
    `gateway: { id: gw }
drivers:
  - kind: sim
    id: sim
    outputs: { furnace: 0 }
    sensors: [ { id: furnace.temp, waveform: sine }, { id: gas.pressure, waveform: sine } ]
actuators:
  - { id: furnace, driver: sim, target: { output: furnace } }
`,
  );
  fs.writeFileSync(path.join(dir, 'cut.yaml'), 'rules:\n' + safety('overtemp', 'furnace.temp > 80', 'false'));
  fs.writeFileSync(path.join(dir, 'keep.yaml'), 'rules:\n' + safety('keep-warm', 'gas.pressure < 1', 'true'));
  const r = await fieldgate(['rules', 'check', dir, '--config', config]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  // keep.yaml line 6 "      - set: { actuator: furnace, value: true }": the value at column 42.
  assert.match(
    r.stderr,
    /keep\.yaml:6:42: safety rules "keep-warm" and "overtemp" \(.*cut\.yaml:2:5\) can both be active and force actuator "furnace" to different values \(true and false\)/,
  );
});

test('safety rules whose active ranges exclude each other on one sensor are accepted (over-temperature cut, frost protection)', () => {
  const text = 'rules:\n' + safety('overtemp', 'furnace.temp > 80', 'false', 'furnace.temp < 75') + safety('frost', 'furnace.temp < 5', 'true', 'furnace.temp > 10');
  assert.deepEqual(problems(text), []);
});

test('overlapping ranges, equal values and non-safety rules', () => {
  // Active while >= 75 and while <= 90 overlap between 75 and 90.
  const overlap = 'rules:\n' + safety('overtemp', 'furnace.temp > 80', 'false', 'furnace.temp < 75') + safety('odd', 'furnace.temp < 90', 'true');
  assert.equal(problems(overlap).length, 1);
  assert.match(problems(overlap)[0], /^r\.yaml:12:42: safety rules "odd" and "overtemp"/);
  // Both force the same value: no conflict.
  assert.deepEqual(problems('rules:\n' + safety('a', 'furnace.temp > 80', 'false') + safety('b', 'gas.pressure < 1', 'false')), []);
  // A normal rule loses to a safety rule by priority: no conflict.
  assert.deepEqual(problems('rules:\n' + safety('a', 'furnace.temp > 80', 'false') + '  - id: b\n    when: gas.pressure < 1\n    then:\n      - set: { actuator: furnace, value: true }\n'), []);
  // Boundaries: active while > 80 and while <= 80 cannot meet; while >= 80 and <= 80 can (at 80).
  assert.deepEqual(problems('rules:\n' + safety('a', 'furnace.temp > 80', 'false') + safety('b', 'furnace.temp <= 80', 'true')), []);
  assert.equal(problems('rules:\n' + safety('a', 'furnace.temp >= 80', 'false') + safety('b', '80 >= furnace.temp', 'true')).length, 1);
});
