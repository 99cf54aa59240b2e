import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModbusDriver } from '../../drivers/modbus/driver';
import { SlaveModel, type UnitBank } from '../helpers/modbus-slave';
import { SocatPair } from '../helpers/socat';
import { waitFor } from '../helpers/wait';
import { assertTypeMatrix, last, modbusConfig, readingsOf, recordingContext } from './context';
import { typeMatrix } from './type-matrix';

/**
 * The Modbus TCP and RTU paths against a slave we did not write: pymodbus (Debian's
 * python3-pymodbus, installed by scripts/test-deps.sh), serving the type matrix's
 * words, over TCP and over a socat pty pair. Skipped, saying so, where that package is missing.
 */
const PYTHON = '/usr/bin/python3';
const SLAVE = path.join(__dirname, '../fixtures/modbus/pymodbus-slave.py');
const hasPymodbus = spawnSync(PYTHON, ['-c', 'import pymodbus.server'], { stdio: 'ignore' }).status === 0;

/** The bank's non-zero entries by table, as the fixture takes them. */
function tables(unit: number, bank: UnitBank): Record<string, unknown> {
  const nonZero = (a: ArrayLike<number>) => {
    const out: Record<string, number> = {};
    for (let i = 0; i < a.length; i++) if (a[i] !== 0) out[i] = a[i];
    assert.ok(Object.keys(out).every((k) => Number(k) < 1024), 'the fixture serves addresses 0-1023');
    return out;
  };
  return { unit, holding: nonZero(bank.holding), input: nonZero(bank.input), coil: nonZero(bank.coils), discrete: nonZero(bank.discrete) };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The fixture serving `tables` on a TCP port or a serial device; killed after the test. */
async function startPymodbus(t: TestContext, where: string, tables: Record<string, unknown>): Promise<void> {
  const slave = spawn(PYTHON, [SLAVE, where, JSON.stringify(tables)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  slave.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  t.after(() => slave.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    slave.stdout.once('data', () => resolve());
    slave.once('exit', (code) => reject(new Error(`pymodbus slave exited ${code}: ${stderr}`)));
  });
}

const skip = hasPymodbus ? false : 'python3-pymodbus is not installed (scripts/test-deps.sh installs it)';

test('modbus tcp against pymodbus: every data type and byte order reads its known value, two units in parallel on one connection', { skip }, async (t) => {
  const { sensors, expected } = typeMatrix(new SlaveModel().addUnit(1));
  const bank = new SlaveModel().addUnit(1);
  typeMatrix(bank);
  const port = await freePort();
  await startPymodbus(t, String(port), tables(1, bank));

  // Unit 1 twice under two device names: two lanes whose transactions interleave on one socket.
  const ctx = recordingContext();
  const renamed = (prefix: string) => sensors.map((s) => ({ ...s, id: `${prefix}.${String(s.id)}` }));
  const config = modbusConfig({
    kind: 'modbus',
    id: 'py',
    bus: { type: 'tcp', host: '127.0.0.1', port },
    devices: [
      { name: 'a', unit: 1, interval: '100ms', sensors: renamed('a') },
      { name: 'b', unit: 1, interval: '100ms', sensors: renamed('b') },
    ],
  });
  const driver = new ModbusDriver(config, ctx);
  t.after(() => driver.stop());
  await driver.start();
  const want = new Map([...expected].flatMap(([id, v]) => [[`a.${id}`, v] as const, [`b.${id}`, v] as const]));
  // The slave may still be binding its port: the bus reconnects until it answers.
  await waitFor(() => [...want.keys()].every((id) => last(ctx, id)?.quality === 'good'), { what: 'a good reading of every point from pymodbus', timeoutMs: 15_000 });
  assertTypeMatrix(ctx, want);
});

async function rtuAgainstPymodbus(t: TestContext, interval: string) {
  const { sensors, expected } = typeMatrix(new SlaveModel().addUnit(7));
  const bank = new SlaveModel().addUnit(7);
  typeMatrix(bank);
  const cable = new SocatPair();
  t.after(() => cable.dispose());
  await cable.start();
  await startPymodbus(t, cable.b, tables(7, bank));
  const ctx = recordingContext();
  const config = modbusConfig({ kind: 'modbus', id: 'py-rtu', bus: { type: 'serial', path: cable.a, baudRate: 115200 }, devices: [{ name: 'meter', unit: 7, interval, timeout: '500ms', sensors }] });
  const driver = new ModbusDriver(config, ctx);
  t.after(() => driver.stop());
  await driver.start();
  await waitFor(() => [...expected.keys()].every((id) => last(ctx, id)?.quality === 'good'), { what: 'a good reading of every point from pymodbus over the pty', timeoutMs: 15_000 });
  return { ctx, expected };
}

test('modbus rtu against pymodbus over a socat pty: every data type and byte order reads its known value', { skip }, async (t) => {
  const { ctx, expected } = await rtuAgainstPymodbus(t, '1s');
  assertTypeMatrix(ctx, expected);
});

/**
 * Hold every thread of libuv's pool, as that many DNS look-ups of an unreachable broker's
 * host name would: each an `open(2)` of a FIFO with no writer, which blocks in its pool
 * thread until `release()` opens the write ends.
 */
async function holdThreadPool(): Promise<{ release(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-pool-'));
  const size = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const opened: Promise<number>[] = [];
  for (let i = 0; i < size; i++) {
    const fifo = path.join(dir, `f${i}`);
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
    opened.push(fs.promises.open(fifo, 'r').then((h) => h.close().then(() => i)));
  }
  // Give each open its pool thread (they are queued in order, none can finish).
  await new Promise((r) => setTimeout(r, 100));
  return {
    async release() {
      for (let i = 0; i < size; i++) fs.closeSync(fs.openSync(path.join(dir, `f${i}`), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      await Promise.all(opened);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('modbus rtu: polling goes on while every thread of libuv\'s pool is held (serial reads and writes are made on the event loop)', { skip }, async (t) => {
  const { ctx, expected } = await rtuAgainstPymodbus(t, '50ms');
  const id = [...expected.keys()][0];
  const pool = await holdThreadPool();
  try {
    const before = readingsOf(ctx, id).length;
    // With reads and writes on the pool, the next request is never written: no reading comes.
    await waitFor(() => readingsOf(ctx, id).length >= before + 10, { what: 'ten more polls with the thread pool held', timeoutMs: 5000 });
    assert.ok(readingsOf(ctx, id).slice(before).every((r) => r.quality === 'good'));
  } finally {
    await pool.release();
  }
});
