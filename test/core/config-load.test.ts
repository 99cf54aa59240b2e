import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/load';
import { formatProblem } from '../../src/config/yaml-source';

function problems(text: string): string[] {
  const res = parseConfig('gw.yaml', text);
  return res.ok ? [] : res.problems.map(formatProblem);
}

const SIM = `gateway: { id: gw }
drivers:
  - kind: sim
    id: sim
    sensors:
      - { id: a, waveform: sine }
`;

test('a minimal config is valid and durations parse to milliseconds', () => {
  const res = parseConfig('gw.yaml', SIM.replace('waveform: sine', 'waveform: sine, interval: 2.5s'));
  assert.ok(res.ok);
  assert.equal(res.value.sensors[0].intervalMs, 2500);
  assert.deepEqual(res.value.sensors[0].path, ['drivers', 0, 'sensors', 0]);
});

test('YAML syntax errors are positioned', () => {
  // Line 2 opens a flow mapping that never closes.
  const ps = problems('gateway:\n  id: { gw\n');
  assert.equal(ps.length >= 1, true);
  assert.match(ps[0], /^gw\.yaml:\d+:\d+: /);
});

test('a missing required key points at the object that lacks it', () => {
  // "gateway:" value (the map) starts at line 2, column 3.
  assert.deepEqual(problems('gateway:\n  logLevel: info\n'), ['gw.yaml:2:3: gateway: missing required key "id" (Invalid input: expected string, received undefined)']);
});

test('an unknown driver kind lists the valid kinds', () => {
  const ps = problems(SIM.replace('kind: sim', 'kind: simm'));
  assert.equal(ps.length, 1);
  // Line 3 "  - kind: simm": the value starts at column 11.
  assert.match(ps[0], /^gw\.yaml:3:11: /);
  for (const kind of ['sim', 'modbus', 'gpio', 'adc', 'ble', 'zigbee']) assert.ok(ps[0].includes(`'${kind}'`), `${kind} listed in ${ps[0]}`);
});

test('duplicate sensor ids and an actuator on an unknown driver are errors with positions', () => {
  const text = `${SIM}      - { id: a, waveform: ramp }
actuators:
  - { id: heater, driver: nosuch, target: { output: h } }
`;
  // Line 7: "      - { id: a, ..." → the id value "a" is at column 15.
  // Line 9: "  - { id: heater, driver: nosuch, ..." → "nosuch" at column 27.
  assert.deepEqual(problems(text), [
    'gw.yaml:7:15: duplicate sensor id "a" (first declared at line 6)',
    'gw.yaml:9:27: unknown driver "nosuch" (drivers: sim)',
  ]);
});

test('an actuator target is checked against its driver kind', () => {
  const text = `${SIM}actuators:
  - { id: heater, driver: sim, target: { outptu: h } }
`;
  const ps = problems(text);
  assert.ok(ps.some((p) => p.includes('unknown key "outptu"')), ps.join('\n'));
});

test('QoS 2 is refused in the uplink config', () => {
  const ps = problems(`${SIM}uplink: { brokers: ["mqtt://127.0.0.1:1883"], qos: 2 }\n`);
  assert.equal(ps.length, 1);
  assert.match(ps[0], /uplink\.qos/);
});
