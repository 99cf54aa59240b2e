import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIG_LIMITS, ConfigSource } from '../../src/config/config-source';
import { parseConfig } from '../../src/config/load';
import { formatProblem, YamlSource, type ConfigPath } from '../../src/config/yaml-source';

// Block and flow collections, comments, blank lines, quoted keys and a list of
// lists: ConfigSource must position every path exactly where the `yaml`
// library's Document (YamlSource, which positioned config problems before) does.
const TRICKY = `# top comment
gateway:
  id: gw   # trailing comment

  logLevel: info
drivers:
  - kind: sim
    id: "sim"
    sensors:
      # a comment before the first item
      - id: a
        pipeline:
          - { kind: range, min: 0, max: 10 }
          - kind: scale
            rawMin: 0

      - { id: b, waveform: ramp, pipeline: [ { kind: round, decimals: x } ] }
      -
        id: c
        extra: { deep: { deeper: [1, 2, { deepest: true }] } }
  - kind: modbus
    'quoted key': [[1, 2], [3, 4]]
actuators: []
`;

const PATHS: [ConfigPath, string?][] = [
  [[]],
  [['gateway']],
  [['gateway', 'id']],
  [['gateway', 'logLevel']],
  [['gateway', 'missing']],
  [['gateway'], 'logLevel'],
  [[], 'drivers'],
  [['drivers', 0]],
  [['drivers', 0, 'id']],
  [['drivers', 0, 'sensors', 0]],
  [['drivers', 0, 'sensors', 0, 'id']],
  [['drivers', 0, 'sensors', 0, 'pipeline', 0, 'max']],
  [['drivers', 0, 'sensors', 0, 'pipeline', 1]],
  [['drivers', 0, 'sensors', 0, 'pipeline', 1, 'rawMin']],
  [['drivers', 0, 'sensors', 0, 'pipeline', 1], 'rawMin'],
  [['drivers', 0, 'sensors', 0, 'pipeline', 7]],
  [['drivers', 0, 'sensors', 1, 'waveform']],
  [['drivers', 0, 'sensors', 1, 'pipeline', 0, 'decimals']],
  [['drivers', 0, 'sensors', 1], 'pipeline'],
  [['drivers', 0, 'sensors', 2]],
  [['drivers', 0, 'sensors', 2], 'extra'],
  [['drivers', 0, 'sensors', 2, 'extra', 'deep', 'deeper', 2, 'deepest']],
  [['drivers', 0, 'sensors', 2, 'extra', 'deep', 'deeper', 1]],
  [['drivers', 1, 'quoted key', 1, 0]],
  [['drivers', 1], 'quoted key'],
  [['actuators']],
  [['actuators', 0]],
];

test('positions agree with the yaml Document for block, flow, nested and missing paths', () => {
  const fast = new ConfigSource('gw.yaml', TRICKY);
  const full = new YamlSource('gw.yaml', TRICKY);
  assert.equal(full.syntaxProblems().length, 0);
  for (const [path, key] of PATHS) {
    assert.deepEqual(fast.position(path, key), full.position(path, key), `${path.join('.')}${key ? ` key ${key}` : ''}`);
  }
});

test('a few of those positions, counted by hand', () => {
  const src = new ConfigSource('gw.yaml', TRICKY);
  // Line 13 "          - { kind: range, min: 0, max: 10 }": "10" is at column 41.
  assert.deepEqual(src.position(['drivers', 0, 'sensors', 0, 'pipeline', 0, 'max']), { line: 13, col: 41 });
  // Line 17, the flow sensor b: "x" of decimals at column 71 (70 characters before it).
  assert.deepEqual(src.position(['drivers', 0, 'sensors', 1, 'pipeline', 0, 'decimals']), { line: 17, col: 71 });
  // Line 20 "        extra: { deep: { deeper: [1, 2, { deepest: true }] } }": "true" at column 52.
  assert.deepEqual(src.position(['drivers', 0, 'sensors', 2, 'extra', 'deep', 'deeper', 2, 'deepest']), { line: 20, col: 52 });
  // Line 15 "            rawMin: 0": the key at column 13.
  assert.deepEqual(src.position(['drivers', 0, 'sensors', 0, 'pipeline', 1], 'rawMin'), { line: 15, col: 13 });
});

test('a byte-order mark and CRLF line ends do not shift positions', () => {
  const text = '\uFEFFgateway: { id: gw }\r\ndrivers:\r\n  - kind: sim\r\n    id: sim\r\n    sensors:\r\n      - { id: a, waveform: sine, noise: loud }\r\n';
  const res = parseConfig('gw.yaml', text);
  assert.equal(res.ok, false);
  if (res.ok) return;
  // Line 6 "      - { id: a, waveform: sine, noise: loud }": "loud" starts at column 41 (40 characters before it).
  assert.deepEqual(res.problems.map((p) => [p.line, p.col]), [[6, 41]]);
});

/** n sim sensors, 9 lines each after a 6-line head: sensor i starts on line 7 + 9i. */
function fleet(n: number, stage3 = 'deadband, threshold: 0.1'): string {
  const out = ['gateway: { id: gw }', 'drivers:', '  - kind: sim', '    id: sim', '    # sensors follow', '    sensors:'];
  for (let i = 0; i < n; i++) {
    out.push(
      `      - id: s${i}`,
      '        waveform: sine',
      '        interval: 1s',
      '        pipeline:',
      '          - { kind: range, min: 0, max: 100 }',
      '          - { kind: scale, rawMin: 0, rawMax: 100, min: 0, max: 10 }',
      `          - { kind: ${i === 9876 ? stage3 : 'deadband, threshold: 0.1'} }`,
      '          - { kind: round, decimals: 2 }',
      '',
    );
  }
  return out.join('\n');
}

test('in a 10 000-sensor config a bad value deep in sensor 9876 is reported at its line and column', () => {
  const res = parseConfig('big.yaml', fleet(10_000, 'deadband, threshold: lots'));
  assert.equal(res.ok, false);
  if (res.ok) return;
  // Sensor 9876 starts on line 7 + 9 × 9876 = 88 891; its third stage is 6 lines on: 88 897.
  // "          - { kind: deadband, threshold: lots }": "lots" starts at column 42 (41 characters before it).
  assert.deepEqual(res.problems.map(formatProblem), [
    `big.yaml:88897:42: drivers.0.sensors.9876.pipeline.2.threshold: Invalid input: expected number, received string`,
  ]);
});

test('a duplicate sensor id in a 10 000-sensor config names the line of the first one', () => {
  const text = fleet(10_000).replace('- id: s9999\n', '- id: s17\n');
  const res = parseConfig('big.yaml', text);
  assert.equal(res.ok, false);
  if (res.ok) return;
  // s9999 is on line 7 + 9 × 9999 = 90 + 89 898 = 89 998, "s17" at column 13; s17 itself on 7 + 153 = 160.
  assert.deepEqual(res.problems.map(formatProblem), ['big.yaml:89998:13: duplicate sensor id "s17" (first declared at line 160)']);
});

test('a duplicate key is a syntax error on its line', () => {
  const res = new ConfigSource('gw.yaml', 'gateway:\n  id: a\n  id: b\n').read();
  assert.equal(res.ok, false);
  if (res.ok) return;
  assert.equal(res.problems.length, 1);
  assert.equal(res.problems[0].line, 3);
  assert.match(res.problems[0].message, /duplicated mapping key/);
});

test('aliases that expand past the value limit are refused before validation', () => {
  // Each level repeats the one before 10 times: 10^8 values from a few hundred bytes.
  const levels = ['a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]'];
  for (let i = 1; i <= 8; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const res = new ConfigSource('gw.yaml', levels.join('\n') + '\n').read();
  assert.equal(res.ok, false);
  if (res.ok) return;
  assert.match(res.problems[0].message, new RegExp(`more than ${CONFIG_LIMITS.values} values`));
});

test('a file over the size limit is refused without being parsed', () => {
  const res = new ConfigSource('gw.yaml', `# ${'x'.repeat(CONFIG_LIMITS.bytes)}\n`).read();
  assert.equal(res.ok, false);
  if (res.ok) return;
  assert.equal(formatProblem(res.problems[0]), `gw.yaml:1:1: config is ${CONFIG_LIMITS.bytes + 3} bytes; at most ${CONFIG_LIMITS.bytes} are read (split it or remove unused sensors)`);
});
