import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModbusDriver } from '../../drivers/modbus/driver';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { waitFor } from '../helpers/wait';
import { assertTypeMatrix, last, modbusConfig, readingsOf, recordingContext } from './context';
import { typeMatrix } from './type-matrix';

async function tcpSetup(t: { after(fn: () => Promise<void> | void): void }, devices: unknown[], model = new SlaveModel()) {
  const server = await startTcpSlave(model);
  const ctx = recordingContext();
  const config = modbusConfig({ kind: 'modbus', id: 'mb', bus: { type: 'tcp', host: '127.0.0.1', port: server.port }, devices });
  const driver = new ModbusDriver(config, ctx);
  t.after(async () => {
    await driver.stop();
    await server.close();
  });
  return { model, server, ctx, driver };
}

test('tcp: every data type and byte order reads its known value', async (t) => {
  const model = new SlaveModel();
  const { sensors, expected } = typeMatrix(model.addUnit(1));
  const { ctx, driver } = await tcpSetup(t, [{ name: 'meter', unit: 1, interval: '1s', sensors }], model);
  await driver.start();
  await waitFor(() => [...expected.keys()].every((id) => last(ctx, id)), { what: 'one reading of every point' });
  assertTypeMatrix(ctx, expected);
});

test('tcp: 40 points in 3 clusters are read with 3 transactions per cycle', async (t) => {
  const model = new SlaveModel();
  model.addUnit(3);
  const sensors = [
    ...Array.from({ length: 15 }, (_, i) => ({ id: `a${i}`, register: 'holding', address: i * 2, type: 'float32' })),
    ...Array.from({ length: 15 }, (_, i) => ({ id: `b${i}`, register: 'holding', address: 1000 + i })),
    ...Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, register: 'holding', address: 3000 + i * 3 })), // gaps of 2 ≤ maxGap
  ];
  const { ctx, driver } = await tcpSetup(t, [{ name: 'plc', unit: 3, interval: '50ms', sensors }], model);
  await driver.start();
  await waitFor(() => readingsOf(ctx, 'c9').length >= 4, { what: '4 poll cycles' });
  await driver.stop();
  const cycles = readingsOf(ctx, 'a0').length;
  for (const s of sensors) assert.equal(readingsOf(ctx, s.id).length, cycles, `${s.id} read once per cycle`);
  assert.equal(model.count(3, 3), 3 * cycles);
  assert.deepEqual(
    model.requests.slice(0, 3).map((r) => [r.address, r.count]),
    [
      [0, 30],
      [1000, 15],
      [3000, 28],
    ],
  );
});

test('tcp: ILLEGAL DATA ADDRESS isolates the offending point and learns the range; the rest keeps being read', async (t) => {
  const model = new SlaveModel();
  const bank = model.addUnit(1);
  for (let i = 0; i < 20; i++) bank.holding[i] = 100 + i;
  bank.illegal.push({ table: 'holding', from: 5, to: 5 }); // a configured point the device does not have
  bank.illegal.push({ table: 'holding', from: 12, to: 13 }); // an unused gap inside a block
  const ids = [0, 1, 2, 5, 8, 9, 10, 11, 14, 15];
  const sensors = ids.map((a) => ({ id: `r${a}`, register: 'holding', address: a }));
  const { ctx, driver } = await tcpSetup(t, [{ name: 'dev', unit: 1, interval: '50ms', sensors }], model);
  await driver.start();
  await waitFor(() => readingsOf(ctx, 'r15').length >= 3, { what: '3 cycles' });
  await driver.stop();
  for (const a of ids) {
    const r = readingsOf(ctx, `r${a}`);
    if (a === 5) assert.ok(r.every((x) => x.quality === 'bad'), 'r5 bad');
    else assert.ok(r.every((x) => x.quality === 'good' && x.value === 100 + a), `r${a} good`);
  }
  const health = driver.health() as { devices: Record<string, { learnedForbidden: Record<string, number[][]>; errors: { exception: number } }> };
  assert.deepEqual(health.devices.dev.learnedForbidden, { holding: [[5, 5], [12, 13]] });
  // Once learned, a cycle is [0..2] [5] [8..11] [14..15]: 4 reads, none answered with an exception.
  const lastCycle = model.requests.slice(-4).map((r) => [r.address, r.count]);
  assert.deepEqual(lastCycle, [
    [0, 3],
    [5, 1],
    [8, 4],
    [14, 2],
  ]);
});

test('tcp: writes reach holding registers and coils with type and order, and are read back', async (t) => {
  const model = new SlaveModel();
  const bank = model.addUnit(2);
  const { driver } = await tcpSetup(t, [{ name: 'vfd', unit: 2, interval: '1s', sensors: [] }], model);
  await driver.start();
  await driver.write({ device: 'vfd', register: 'holding', address: 10, type: 'float32', order: 'CDAB', verify: true }, 123.456);
  assert.deepEqual([bank.holding[10], bank.holding[11]], [0xe979, 0x42f6]);
  assert.equal(model.count(2, 16), 1, 'two registers: FC16');
  await driver.write({ device: 'vfd', register: 'holding', address: 20, type: 'int16', scale: 0.1, verify: true }, -1.5);
  assert.equal(bank.holding[20], 0xfff1, '-1.5 / 0.1 = -15 = 0xFFF1');
  assert.equal(model.count(2, 6), 1, 'one register: FC6');
  await driver.write({ device: 'vfd', register: 'holding', address: 21, multiple: true }, 7);
  assert.equal(model.count(2, 16), 2, 'multiple: FC16 for one register');
  await driver.write({ device: 'vfd', register: 'coil', address: 3, verify: true }, true);
  assert.equal(bank.coils[3], 1);
  assert.equal(model.count(2, 5), 1);
  await driver.write({ device: 'vfd', register: 'coil', address: 4, multiple: true }, true);
  assert.equal(model.count(2, 15), 1);
  assert.equal(model.count(2, 1), 1, 'coil read back once');
  assert.equal(model.count(2, 3), 2, 'registers read back twice');
});

test('tcp: a write answered with an exception fails with the exception name', async (t) => {
  const model = new SlaveModel();
  model.addUnit(2).illegal.push({ table: 'holding', from: 30, to: 30 });
  const { driver } = await tcpSetup(t, [{ name: 'vfd', unit: 2, sensors: [] }], model);
  await driver.start();
  await assert.rejects(driver.write({ device: 'vfd', register: 'holding', address: 30 }, 1), /ILLEGAL DATA ADDRESS/);
});

test('tcp: a write whose read-back differs fails verification', async (t) => {
  const model = new SlaveModel();
  model.addUnit(2).ignoreWrites = true;
  const { driver } = await tcpSetup(t, [{ name: 'vfd', unit: 2, sensors: [] }], model);
  await driver.start();
  await assert.rejects(driver.write({ device: 'vfd', register: 'holding', address: 30, verify: true }, 5), /not confirmed: wrote \[5\], read back \[0\]/);
  await driver.write({ device: 'vfd', register: 'holding', address: 30 }, 5); // without verify it is taken on trust
  assert.equal((driver.health() as { verifyFailures: number }).verifyFailures, 1);
});

test('tcp: an absent unit does not slow the devices polled beside it', async (t) => {
  const model = new SlaveModel();
  model.addUnit(1).holding[0] = 42;
  const { ctx, driver } = await tcpSetup(
    t,
    [
      { name: 'present', unit: 1, interval: '50ms', sensors: [{ id: 'p', register: 'holding', address: 0 }] },
      { name: 'absent', unit: 9, interval: '50ms', timeout: '300ms', retries: 0, sensors: [{ id: 'x', register: 'holding', address: 0 }] },
    ],
    model,
  );
  const t0 = Date.now();
  await driver.start();
  await waitFor(() => readingsOf(ctx, 'x').length >= 1, { what: 'absent unit marked bad' });
  const elapsed = Date.now() - t0;
  const p = readingsOf(ctx, 'p');
  // Parallel lanes on TCP: the present device kept its 50 ms pace during the 300 ms timeout.
  assert.ok(p.length >= Math.floor(elapsed / 50) - 2, `${p.length} readings in ${elapsed} ms`);
  assert.equal(last(ctx, 'x')?.quality, 'bad');
  const h = driver.health() as { devices: Record<string, { errors: { timeout: number }; status: string }> };
  assert.equal(h.devices.absent.errors.timeout, 1);
  assert.equal(h.devices.present.status, 'ok');
});
