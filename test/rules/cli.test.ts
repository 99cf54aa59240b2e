import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIO } from '../../src/cli/command';
import { main } from '../../src/cli/main';

const root = path.resolve(__dirname, '../..');

function capture(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => {
      io.stdout += t;
    },
    err: (t: string) => {
      io.stderr += t;
    },
    isTTY: false,
    env,
    confirm: async () => false,
  };
  return io;
}

const demo = path.join(root, 'config/demo.yaml');

test('rules check: the shipped examples pass against config/demo.yaml', async () => {
  const io = capture();
  assert.equal(await main(['rules', 'check', path.join(root, 'rules'), '--config', demo], io), 0, io.stderr);
  assert.match(io.stdout, /OK — 4 rule\(s\) in 4 file\(s\)/);
});

test('rules check: the PID example passes against a config with a number actuator', async () => {
  const io = capture();
  const config = path.join(root, 'test/rules/fixtures/gateway.yaml');
  assert.equal(await main(['rules', 'check', path.join(root, 'rules/optional'), '--config', config], io), 0, io.stderr);
});

test('rules check: errors are printed as FILE:LINE:COL and exit 1', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rules-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'rules:\n  - id: x\n    when: furnace.temp >> 80\n    then:\n      - set: { actuator: heater, value: false }\n');
  const io = capture();
  assert.equal(await main(['rules', 'check', dir, '--config', demo], io), 1);
  // "    when: " → the expression starts at col 11; the second ">" is at offset 14 → col 25.
  // "      - set: { actuator: " → "heater" starts at col 26.
  assert.deepEqual(io.stderr.trim().split('\n'), [
    `${file}:3:25: unexpected ">"; expected a value`,
    `${file}:5:26: unknown actuator "heater" (actuators: furnace, pump, tank.valve)`,
    `2 error(s) in ${dir}`,
  ]);
});

test('rules check without any config warns that ids are not checked', async () => {
  const io = capture({});
  assert.equal(await main(['rules', 'check', path.join(root, 'rules')], io), 0);
  assert.match(io.stderr, /no gateway config found/);
});

for (const name of fs.readdirSync(path.join(root, 'test/rules/cases')).filter((n) => !n.includes('.'))) {
  test(`rules test golden case: ${name}`, async () => {
    const dir = path.join(root, 'test/rules/cases', name);
    const own = path.join(dir, 'rules.yaml');
    const rules = fs.existsSync(own) ? own : path.join(root, 'rules', `${name}.yaml`);
    const cfg = fs.existsSync(path.join(dir, 'gateway.yaml')) ? path.join(dir, 'gateway.yaml') : demo;
    const io = capture();
    assert.equal(await main(['rules', 'test', rules, '--trace', path.join(dir, 'trace.csv'), '--config', cfg], io), 0, io.stderr);
    assert.equal(io.stdout, fs.readFileSync(path.join(dir, 'expected.txt'), 'utf8'));
  });
}

test('rules check: a set value the Modbus target cannot hold exactly is an error at FILE:LINE:COL', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rules-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'setpoint.yaml');
  fs.writeFileSync(file, 'rules:\n  - id: cold\n    when: boiler.temp < 5\n    then:\n      - set: { actuator: boiler.setpoint, value: 12.7 }\n');
  const io = capture();
  assert.equal(await main(['rules', 'check', dir, '--config', path.join(root, 'test/rules/cases/pid-int16/gateway.yaml')], io), 1);
  // "      - set: { actuator: boiler.setpoint, value: " is 49 characters: the value starts at col 50
  assert.deepEqual(io.stderr.trim().split('\n'), [
    `${file}:5:50: 12.7 cannot be written exactly to actuator "boiler.setpoint" (its target would hold 13); set 13, or set round: true on the actuator`,
    `1 error(s) in ${dir}`,
  ]);
});
