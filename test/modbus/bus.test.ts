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

test('a TCP bus of 20 devices waits on one timer between cycles, and each device is still polled on its own interval', async () => {
  const clock = new VirtualClock(); // starts on a whole second
  const ctx = recordingContext(clock);
  const transport = new FakeTransport();
  transport.plugged = true;
  const devices = Array.from({ length: 20 }, (_, i) => ({
    name: `m${i}`,
    unit: 1,
    interval: i === 19 ? '500ms' : '1s',
    sensors: [{ id: `m${i}.v`, register: 'holding', address: 0 }],
  }));
  const driver = new ModbusDriver(modbusConfig({ kind: 'modbus', id: 'mb', bus: { type: 'tcp', host: '127.0.0.1', port: 502 }, devices }), ctx, transport);
  await driver.start();
  await clock.advanceAsync(0); // the first cycle (every device at start) completes
  assert.equal(readingsOf(ctx, 'm0.v').length, 1);
  assert.equal(clock.pending(), 1, 'one wake-up for the 20 idle lanes, not one timer each');
  await clock.advanceAsync(3000);
  // At start, then on the grid: 1 s devices at 1, 2, 3 s; the 500 ms one at 0.5, 1, ..., 3 s.
  for (let i = 0; i < 19; i++) assert.deepEqual(readingsOf(ctx, `m${i}.v`).map((r) => r.ts - readingsOf(ctx, 'm0.v')[0].ts), [0, 1000, 2000, 3000], `m${i}`);
  assert.deepEqual(readingsOf(ctx, 'm19.v').map((r) => r.ts - readingsOf(ctx, 'm0.v')[0].ts), [0, 500, 1000, 1500, 2000, 2500, 3000]);
  assert.equal(clock.pending(), 1);
  await driver.stop();
  assert.equal(clock.pending(), 0);
});

test('a sink that throws on an answered read fails that transaction only: logged, and the device keeps being polled', async () => {
  const clock = new VirtualClock();
  const ctx = recordingContext(clock);
  let throws = 3; // the answer's value and the two "bad" marks that follow it
  const emit = ctx.emit;
  ctx.emit = (...a) => {
    if (throws > 0) {
      throws--;
      throw new Error('sink failed');
    }
    emit(...a);
  };
  const transport = new FakeTransport();
  transport.plugged = true;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    const driver = new ModbusDriver(config, ctx, transport);
    await driver.start();
    await clock.advanceAsync(3000);
    assert.ok(ctx.log.lines.some((l) => l.msg === 'modbus: handling a failed transaction failed'), 'the double failure is logged');
    assert.ok(readingsOf(ctx, 'v').filter((r) => r.quality === 'good').length >= 2, 'polling goes on after the failed one');
    await driver.stop();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
