import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { FakeBleRadio, loadRecording } from '../../drivers/ble';
import { DriverUnavailableError } from '../../drivers/driver';
import { bleCommand, makeBleCommand } from '../../src/cli/ble';
import type { CliIO } from '../../src/cli/command';
import { EXIT } from '../../src/cli/command';
import { VirtualClock } from '../../src/core/clock';
import { hasBluetooth } from '../helpers/hardware';

const recording = loadRecording(path.join(__dirname, '../fixtures/ble/site-a.json'));

function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false, env: {}, confirm: async () => false };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

function fakeCommand() {
  const clock = new VirtualClock();
  const radio = new FakeBleRadio(clock);
  const command = makeBleCommand({ createRadio: async () => radio, clock });
  return { clock, radio, command };
}

test('ble scan lists every device heard, strongest first, with decoded values and RSSI', async () => {
  const { clock, radio, command } = fakeCommand();
  const c = captureIO();
  const done = command.run(['scan', '--seconds', '10'], c.io);
  await clock.advanceAsync(0);
  radio.replay(recording);
  await clock.advanceAsync(10_000);
  assert.equal(await done, EXIT.OK);
  const lines = c.out().trimEnd().split('\n');
  assert.match(lines[0], /^ADDRESS\s+RSSI\s+NAME\s+FORMAT\s+VALUES$/);
  assert.equal(lines.length, 5);
  assert.match(lines[1], /^a4:c1:38:00:00:01\s+-60\s+bthome-1\s+bthome\s+packetId=8 battery=97 temperature=25.1 humidity=50.55$/);
  assert.match(lines[2], /^cb:b8:33:4c:88:4f\s+-75\s+ruuvi\s+temperature=24.3 humidity=53.49 pressure=1000.44/);
  assert.match(lines[3], /^a4:c1:38:12:34:56\s+-79\s+atc\s+temperature=23.5 humidity=45 battery=87 voltage=2.95 count=19$/);
  assert.match(lines[4], /^11:22:33:44:55:66\s+-90\s*$/);
  assert.equal(radio.closed, true);
});

test('ble scan --json prints one array', async () => {
  const { clock, radio, command } = fakeCommand();
  const c = captureIO();
  const done = command.run(['scan', '--seconds', '1', '--json'], c.io);
  await clock.advanceAsync(0);
  radio.advertise({ address: 'CB:B8:33:4C:88:4F', rssi: -70, manufacturerData: '99040512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F' });
  await clock.advanceAsync(1000);
  assert.equal(await done, EXIT.OK);
  const devices = JSON.parse(c.out()) as { address: string; rssi: number; format: string; values: Record<string, number> }[];
  assert.equal(devices.length, 1);
  assert.deepEqual([devices[0].address, devices[0].rssi, devices[0].format, devices[0].values.temperature], ['cb:b8:33:4c:88:4f', -70, 'ruuvi', 24.3]);
});

test('ble scan reports an unavailable adapter with its fix and exits 1', async () => {
  const command = makeBleCommand({
    createRadio: async () => {
      throw new DriverUnavailableError('no Bluetooth adapter (hci0) found', 'join group bluetooth');
    },
    clock: new VirtualClock(),
  });
  const c = captureIO();
  assert.equal(await command.run(['scan'], c.io), EXIT.FAIL);
  assert.equal(c.err(), 'fieldgate ble: Bluetooth unavailable: no Bluetooth adapter (hci0) found\nfix: join group bluetooth\n');
});


test('the real command on a machine without Bluetooth fails with the clear message', { skip: hasBluetooth() && 'this machine has a Bluetooth adapter' }, async () => {
  const c = captureIO();
  assert.equal(await bleCommand.run(['scan', '--seconds', '1'], c.io), EXIT.FAIL);
  assert.match(c.err(), /^fieldgate ble: Bluetooth unavailable: no Bluetooth adapter \(hci0\) found: this kernel has no Bluetooth support \(EAFNOSUPPORT/);
  assert.match(c.err(), /fix: .*CAP_NET_RAW/);
});

test('ble usage errors', async () => {
  const { command } = fakeCommand();
  await assert.rejects(command.run(['scan', '--seconds', 'x'], captureIO().io), /--seconds must be/);
  await assert.rejects(command.run(['pair'], captureIO().io), /unknown subcommand "pair"/);
});
