import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { BleDriver } from '../../drivers/ble';
import { createNobleRadio } from '../../drivers/ble/noble-radio';
import { bleDriverSchema } from '../../drivers/ble/schema';
import { DriverUnavailableError } from '../../drivers/driver';
import { VirtualClock } from '../../src/core/clock';
import { recordingContext } from './driver-context';
import { hciState, installFakeHciSocket } from './fake-hci-socket';

// The real @abandonware/noble 1.9.2-26 on a fake HCI socket (its native port), as on a
// Pi whose kernel has Bluetooth but whose adapter is missing, down or silent.
installFakeHciSocket();

function unavailable(pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof DriverUnavailableError, `expected DriverUnavailableError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.match(err.fix ?? '', /setcap cap_net_raw/, "noble's own advice");
    assert.doesNotMatch(err.fix ?? '', /group bluetooth/, 'the bluetooth group does not grant raw HCI access');
    return true;
  };
}

const allStopped = () => hciState.sockets.every((s) => !s.started);

test('no adapter (bind fails ENODEV): unavailable with the reason, not a raw ENODEV error', async () => {
  hciState.scenario = 'no-adapter';
  await assert.rejects(createNobleRadio({ hci: 0, clock: new VirtualClock() }), unavailable(/no Bluetooth adapter hci0 \(ENODEV: ENODEV, No such device\)/));
  assert.ok(allStopped());
});

test('the daemon driver on a box without an adapter rejects start() as unavailable (not a retryable crash)', async () => {
  hciState.scenario = 'no-adapter';
  const { ctx } = recordingContext('ble0');
  const driver = new BleDriver(bleDriverSchema.parse({ kind: 'ble', id: 'ble0', devices: [{ address: 'a4:c1:38:00:00:01' }] }), ctx);
  await assert.rejects(driver.start(), unavailable(/no Bluetooth adapter hci0/));
  await driver.stop();
});

test('adapter down (hciconfig hci0 down): unavailable "powered off" at once, and the HCI socket is released', async () => {
  hciState.scenario = 'down';
  hciState.sockets = [];
  const exitListeners = process.listeners('exit').length;
  await assert.rejects(createNobleRadio({ hci: 0, clock: new VirtualClock() }), unavailable(/hci0 is powered off or blocked/));
  assert.equal(hciState.sockets.length, 1);
  assert.ok(allStopped(), 'the socket poll (which keeps the process alive) is stopped');
  assert.equal(process.listeners('exit').length, exitListeners, "noble's exit handler is removed with it");
});

test('adapter that never answers: unavailable after poweredOnTimeout (virtual time), socket released', async () => {
  hciState.scenario = 'silent';
  hciState.sockets = [];
  const clock = new VirtualClock();
  const p = createNobleRadio({ hci: 0, clock, poweredOnTimeoutMs: 10_000 });
  const settled = assert.rejects(p, unavailable(/hci0 is in state "unknown"/));
  await clock.advanceAsync(10_000);
  await settled;
  assert.ok(allStopped());
});

test('`fieldgate ble scan` with the adapter down prints the reason and exits (noble\'s poll timer no longer keeps it alive)', { timeout: 60_000 }, async () => {
  const script = path.join(__dirname, 'ble-scan-fake-hci.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: { ...process.env, FAKE_HCI_SCENARIO: 'down' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let guard: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))),
    new Promise<'hung'>((resolve) => (guard = setTimeout(() => resolve('hung'), 30_000))),
  ]);
  clearTimeout(guard);
  if (code === 'hung') child.kill('SIGKILL');
  assert.notEqual(code, 'hung', `ble scan did not exit: ${stderr}`);
  assert.equal(code, 1, stderr);
  assert.match(stderr, /fieldgate ble: Bluetooth unavailable: Bluetooth adapter hci0 is powered off or blocked/);
  assert.doesNotMatch(stderr, /at .*\.js:\d+/, 'no stack trace');
});
