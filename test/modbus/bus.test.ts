import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { ModbusDriver } from '../../drivers/modbus/driver';
import { ModbusError } from '../../drivers/modbus/errors';
import type { ModbusTransport } from '../../drivers/modbus/transport';
import { modbusConfig, readingsOf, recordingContext } from './context';

/** A transport that is absent until plugged, then answers every read with zeros. */
class FakeTransport implements ModbusTransport {
  readonly description = 'fake';
  plugged = false;
  opens = 0;
  open_ = false;
  async open() {
    this.opens++;
    if (!this.plugged) throw new ModbusError("Error: No such file or directory, cannot open /dev/ttyUSB9", 'port', undefined, 'ENOENT');
    this.open_ = true;
  }
  async close() {
    this.open_ = false;
  }
  isOpen = () => this.open_;
  read = async (_u: number, _t: string, _a: number, count: number) => new Array<number>(count).fill(0);
  write = async () => undefined;
  flush = async () => undefined;
  onDisconnect() {}
}

const config = modbusConfig({
  kind: 'modbus',
  id: 'mb',
  bus: { type: 'serial', path: '/dev/ttyUSB9', baudRate: 9600 },
  reopen: { initial: '1s', max: '8s' },
  devices: [{ name: 'd', unit: 1, interval: '1s', sensors: [{ id: 'v', register: 'holding', address: 0 }] }],
});

test('an adapter missing at start is reopened with backoff on the injected clock, and stop clears every timer', async () => {
  const clock = new VirtualClock();
  const ctx = recordingContext(clock);
  const transport = new FakeTransport();
  const driver = new ModbusDriver(config, ctx, transport, { random: () => 1 });
  await driver.start(); // not fatal: the bus keeps trying
  assert.equal((driver.health() as { link: string }).link, 'backoff');
  await clock.advanceAsync(1000); // first delay: initial (random=1 → the cap)
  assert.equal(transport.opens, 2);
  await clock.advanceAsync(1999);
  assert.equal(transport.opens, 2, 'second delay is 2000 ms');
  transport.plugged = true;
  await clock.advanceAsync(1);
  assert.equal(transport.opens, 3);
  assert.equal((driver.health() as { link: string }).link, 'open');
  await clock.advanceAsync(2500);
  assert.ok(readingsOf(ctx, 'v').length >= 3, 'polling at 1 s');
  assert.equal(ctx.log.lines.filter((l) => l.msg === 'modbus link unavailable; reopening with backoff').length, 1, 'logged once, not per attempt');
  await driver.stop();
  assert.equal(clock.pending(), 0);
});

test('permission denied at start is reported as unavailable with the fix', async () => {
  const clock = new VirtualClock();
  const transport = new FakeTransport();
  transport.open = async () => {
    throw new ModbusError('Error: Permission denied, cannot open /dev/ttyUSB9', 'port', undefined, 'EACCES');
  };
  const driver = new ModbusDriver(config, recordingContext(clock), transport);
  await assert.rejects(driver.start(), (err: Error & { fix?: string }) => err.name === 'DriverUnavailableError' && /dialout/.test(err.fix ?? ''));
  await driver.stop();
  assert.equal(clock.pending(), 0);
});
