import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialPort } from 'serialport';
import { ModbusDriver } from '../../drivers/modbus/driver';
import { errorMessage } from '../../src/core/logger';
import { RtuSlave, SlaveModel } from '../helpers/modbus-slave';
import { SocatPair } from '../helpers/socat';
import { waitFor } from '../helpers/wait';
import { assertTypeMatrix, last, modbusConfig, readingsOf, recordingContext } from './context';
import { typeMatrix } from './type-matrix';

type T = { after(fn: () => Promise<void> | void): void };

async function rtuSetup(t: T, devices: unknown[], model: SlaveModel, reopen: { initial: string; max: string } = { initial: '50ms', max: '200ms' }) {
  const cable = new SocatPair();
  t.after(() => cable.dispose());
  await cable.start();
  const slave = new RtuSlave(model, cable.b, 115200);
  await slave.open();
  t.after(() => slave.close());
  const ctx = recordingContext();
  const config = modbusConfig({ kind: 'modbus', id: 'rs485', bus: { type: 'serial', path: cable.a, baudRate: 115200 }, reopen, devices });
  const driver = new ModbusDriver(config, ctx);
  t.after(() => driver.stop());
  return { cable, slave, ctx, driver };
}

test('rtu over a pty: every data type and byte order reads its known value', async (t) => {
  const model = new SlaveModel();
  const { sensors, expected } = typeMatrix(model.addUnit(5));
  const { ctx, driver } = await rtuSetup(t, [{ name: 'meter', unit: 5, interval: '1s', sensors }], model);
  await driver.start();
  await waitFor(() => [...expected.keys()].every((id) => last(ctx, id)), { what: 'one reading of every point' });
  assertTypeMatrix(ctx, expected);
  // Holding points from 100 each followed by a 1-register gap: 4 × (3+3+3+2+2+5+5+5+4) = 128
  // addresses, last point ending at 226: 127 registers > 125, so 2 holding reads; plus one
  // read each for the coil, the discrete input and input registers 11..20 (gap 8 ≤ maxGap 10).
  assert.equal(model.count(5), 5);
});

test('rtu: an absent unit delays the others by at most its timeout, then is degraded', async (t) => {
  const model = new SlaveModel();
  model.addUnit(1).holding[0] = 7;
  const { ctx, driver } = await rtuSetup(
    t,
    [
      { name: 'present', unit: 1, interval: '40ms', sensors: [{ id: 'p', register: 'holding', address: 0 }] },
      { name: 'absent', unit: 2, interval: '40ms', timeout: '150ms', retries: 1, degradeAfter: 2, degradeFor: '10s', sensors: [{ id: 'x', register: 'holding', address: 0 }] },
    ],
    model,
  );
  await driver.start();
  await waitFor(() => (driver.health() as { devices: { absent: { status: string } } }).devices.absent.status === 'degraded', { what: 'absent degraded' });
  const p = readingsOf(ctx, 'p');
  const gaps = p.slice(1).map((r, i) => r.ts - p[i].ts);
  // Round robin: between two reads of `present` the bus spends at most one timeout on `absent`.
  // Real time over a pty: 100 ms of slack for a loaded machine, still less than the second
  // timeout (another 150 ms) that would show the bus waiting on `absent` twice in a row.
  assert.ok(Math.max(...gaps) <= 150 + 40 + 100, `largest gap ${Math.max(...gaps)} ms`);
  // 2 failed cycles × (1 try + 1 retry), then skipped.
  const before = model.count(2);
  assert.equal(before, 4);
  await waitFor(() => readingsOf(ctx, 'p').length >= p.length + 5, { what: 'more readings of present' });
  assert.equal(model.count(2), before, 'degraded unit is not polled');
  assert.ok(readingsOf(ctx, 'x').every((r) => r.quality === 'bad'));
});

test('rtu: unplugging and replugging the adapter recovers without restarting the driver', async (t) => {
  const model = new SlaveModel();
  model.addUnit(1).input[3] = 1234;
  const { cable, slave, ctx, driver } = await rtuSetup(t, [{ name: 'dev', unit: 1, interval: '30ms', timeout: '100ms', sensors: [{ id: 'v', register: 'input', address: 3 }] }], model);
  await driver.start();
  await waitFor(() => readingsOf(ctx, 'v').length >= 2, { what: 'first readings' });

  await slave.close();
  await cable.stop(); // unplug
  await waitFor(() => last(ctx, 'v')?.quality === 'bad', { what: 'points bad after unplug' });
  await waitFor(() => (driver.health() as { link: string }).link === 'backoff', { what: 'link in backoff' });

  await cable.start(); // replug: same link path, a new pty behind it
  await slave.open();
  const goodAfter = ctx.emitted.length;
  await waitFor(() => ctx.emitted.slice(goodAfter).some((r) => r.sensor === 'v' && r.quality === 'good' && r.value === 1234), { timeoutMs: 5000, what: 'readings after replug' });

  const h = driver.health() as { link: string; opens: number; devices: { dev: { errors: { port: number }; lastError: string } } };
  assert.equal(h.link, 'open');
  assert.ok(h.opens >= 2, 'reopened');
  assert.ok(h.devices.dev.errors.port >= 1);
  const messages = ctx.errors.map((e) => errorMessage(e.err));
  assert.ok(!messages.some((m) => /Cannot lock port/.test(m)), messages.join('\n'));
});

test('rtu: timeouts do not leave the port locked: another process can open it right after stop', async (t) => {
  const model = new SlaveModel(); // no units: every request times out
  const { cable, driver, ctx } = await rtuSetup(t, [{ name: 'ghost', unit: 9, interval: '20ms', timeout: '50ms', retries: 0, sensors: [{ id: 'g', register: 'holding', address: 0 }] }], model);
  await driver.start();
  await waitFor(() => readingsOf(ctx, 'g').length >= 2, { what: 'two timed-out cycles' });
  await driver.stop();
  const other = new SerialPort({ path: cable.a, baudRate: 115200, autoOpen: false });
  await new Promise<void>((resolve, reject) => other.open((err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => other.close(() => resolve()));
});
