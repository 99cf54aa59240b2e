import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import type { CliIO } from '../../src/cli/command';
import { createGpioCommand, gpioCommand } from '../../src/cli/gpio';
import { FakeGpioChip } from '../../drivers/gpio';
import { tempDir } from './driver-context';

function capture(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    isTTY: false,
    env,
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
    confirm: async () => false,
  };
  return io;
}

function fakeCommand(untilStopped?: () => Promise<void>) {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const chip = new FakeGpioChip(clock);
  const cmd = createGpioCommand({ openLines: async () => chip, clock, untilStopped });
  return { clock, chip, cmd };
}

test('gpio read prints the level, inverted with --active-low, and releases the line', async () => {
  const { chip, cmd } = fakeCommand();
  chip.setLevel(4, 1);
  const io = capture();
  assert.equal(await cmd.run(['read', '4'], io), 0);
  assert.equal(io.stdout, '1\n');
  const io2 = capture();
  assert.equal(await cmd.run(['read', '4', '--active-low'], io2), 0);
  assert.equal(io2.stdout, '0\n');
  assert.equal(chip.isClaimed(4), false);
});

test('gpio watch prints each (debounced) edge with its time until stopped', async () => {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const { clock, chip, cmd } = fakeCommand(() => stopped);
  const io = capture();
  const done = cmd.run(['watch', '17', '--debounce', '10ms'], io);
  await new Promise((r) => setImmediate(r));
  chip.train(17, [ { atMs: 0, value: 1 }, { atMs: 2, value: 0 }, { atMs: 3, value: 1 } ], clock);
  clock.advance(10);
  chip.edge(17, 0);
  clock.advance(10);
  stop();
  assert.equal(await done, 0);
  assert.equal(
    io.stdout,
    'watching GPIO17 (level 0, debounce 10 ms); Ctrl-C to stop\n' +
      '2026-01-01T00:00:00.000Z  GPIO17  1  rising\n' +
      '2026-01-01T00:00:00.013Z  GPIO17  0  falling\n',
  );
  assert.equal(chip.isWatched(17), false);
  assert.equal(clock.pending(), 0);
});

function daemonFiles(t: { after(fn: () => void): void }) {
  const dir = tempDir(t, 'fg-gpio-cli-');
  const config = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(
    config,
    [
      'gateway: { id: gw }',
      'drivers:',
      '  - { kind: gpio, id: pins, inputs: [ { id: door, pin: 17 } ] }',
      'actuators:',
      '  - { id: pump, driver: pins, target: { pin: 27 } }',
      '',
    ].join('\n'),
  );
  const socket = path.join(dir, 'control.sock');
  return { config, socket };
}

test('gpio write refuses a pin the running daemon owns as an actuator, unless --force', async (t) => {
  const { config, socket } = daemonFiles(t);
  fs.writeFileSync(socket, ''); // the daemon is running: its socket exists
  const { chip, cmd } = fakeCommand();
  const io = capture({ FIELDGATE_SOCKET: socket });
  assert.equal(await cmd.run(['write', '27', '1', '--config', config], io), 1);
  assert.match(io.stderr, /GPIO27 is owned by the running daemon as actuator "pump" of driver "pins"/);
  assert.equal(chip.isClaimed(27), false);
  assert.deepEqual(chip.writes(27), []);

  const forced = capture({ FIELDGATE_SOCKET: socket });
  assert.equal(await cmd.run(['write', '27', '1', '--config', config, '--force'], forced), 0);
  assert.equal(chip.level(27), 1);
});

test('gpio write refuses a daemon input pin too, and allows a free pin', async (t) => {
  const { config, socket } = daemonFiles(t);
  fs.writeFileSync(socket, '');
  const { chip, cmd } = fakeCommand();
  const io = capture({ FIELDGATE_SOCKET: socket, FIELDGATE_CONFIG: config });
  assert.equal(await cmd.run(['write', '17', '1'], io), 1);
  assert.match(io.stderr, /as input "door"/);
  assert.equal(await cmd.run(['write', '5', '1', '--active-low'], capture({ FIELDGATE_SOCKET: socket, FIELDGATE_CONFIG: config })), 0);
  assert.equal(chip.level(5), 0);
});

test('gpio write to an owned pin is allowed when the daemon is not running (no socket)', async (t) => {
  const { config, socket } = daemonFiles(t);
  const { chip, cmd } = fakeCommand();
  assert.equal(await cmd.run(['write', '27', '1', '--config', config], capture({ FIELDGATE_SOCKET: socket })), 0);
  assert.equal(chip.level(27), 1);
});

test('usage errors: bad pin, missing value, unknown flag', async () => {
  const { cmd } = fakeCommand();
  await assert.rejects(cmd.run(['read', 'GPIO4'], capture()), /PIN must be a BCM GPIO number/);
  await assert.rejects(cmd.run(['write', '4'], capture()), /write needs a value 0 or 1/);
  await assert.rejects(cmd.run(['read', '4', '--bogus'], capture()), /bogus/);
});

test('on a machine without GPIO the real backend gives the reason and the fix', async (t) => {
  const root = tempDir(t, 'fg-nogpio-');
  const io = capture({ FIELDGATE_SYSFS_ROOT: root });
  // backend sysfs: only the fake root is consulted, so the result does not depend on the host's /dev.
  assert.equal(await gpioCommand.run(['read', '4', '--backend', 'sysfs'], io), 1);
  assert.match(io.stderr, new RegExp(`no Raspberry Pi header chip .* under ${root}/class/gpio \\(found: none\\)\\nfix: `));
});
