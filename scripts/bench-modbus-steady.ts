/**
 * `npm run bench -- modbus-steady`: what steady Modbus TCP polling costs in-process,
 * split into the library and fieldgate's driver. Prints one JSON object.
 *
 *   slaves (a child process: UNITS Modbus TCP slaves, REGISTERS holding registers each,
 *   every value changing every second)
 *     ◄── modbus-serial   one client per slave, FC3 of all registers once a second on its
 *                         own timer: the library by itself, the floor for any driver on it
 *     ◄── driver          fieldgate's ModbusDriver (bus scheduler, planner, decode,
 *                         ModbusSerialTransport on modbus-serial), one per slave, 1 s interval,
 *                         samples counted and dropped (no pipeline, outbox or uplink)
 *
 * Each poller runs in a process of its own with the service's runtime settings;
 * its CPU (process.cpuUsage) is measured over --seconds after --warmup (V8 optimises
 * code that runs 20 times a second only after a minute or so). The whole daemon on the
 * same load is `npm run bench -- daemon --modbus 20x20`.
 * Options: --units 20 --registers 20 --warmup 90 --seconds 40
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import ModbusRTU from 'modbus-serial';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { ModbusDriver } from '../drivers/modbus/driver';
import { modbusDriverSchema } from '../drivers/modbus/schema';
import { ModbusSerialTransport } from '../drivers/modbus/transport';
import { SlaveModel, startTcpSlave } from '../test/helpers/modbus-slave';

const { values } = parseArgs({
  options: {
    units: { type: 'string', default: '20' },
    registers: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '90' },
    seconds: { type: 'string', default: '40' },
    role: { type: 'string' },
    ports: { type: 'string' },
  },
});
const UNITS = Number(values.units);
const REGISTERS = Number(values.registers);
const WARMUP = Number(values.warmup);
const SECONDS = Number(values.seconds);
for (const n of [UNITS, REGISTERS, WARMUP, SECONDS]) if (!Number.isFinite(n) || n < 0) throw new Error(`bench modbus-steady: bad option value ${n}`);
if (REGISTERS < 1 || REGISTERS > 125) throw new Error('bench modbus-steady: 1 to 125 registers (one read)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The slaves' process: start them, print their ports, run until killed. */
async function slaves(): Promise<void> {
  const models: SlaveModel[] = [];
  const ports: number[] = [];
  for (let u = 0; u < UNITS; u++) {
    const model = new SlaveModel();
    const bank = model.addUnit(1);
    for (let r = 0; r < REGISTERS; r++) bank.holding[r] = 1000 * u + r;
    models.push(model);
    ports.push((await startTcpSlave(model)).port);
  }
  setInterval(() => {
    for (const m of models) {
      const bank = m.units.get(1);
      if (bank) for (let r = 0; r < REGISTERS; r++) bank.holding[r] = (bank.holding[r] + 1) & 0xffff;
      m.requests.length = 0; // bounded: this process runs for minutes
    }
  }, 1000);
  process.stdout.write(JSON.stringify(ports) + '\n');
}

/** A poller's process: poll every port once a second, then print its CPU per second. */
async function poller(role: string, ports: number[]): Promise<void> {
  let values = 0;
  const stops: (() => Promise<void>)[] = [];
  for (const port of ports) {
    if (role === 'modbus-serial') {
      const client = new ModbusRTU();
      client.setTimeout(1000);
      await client.connectTCP('127.0.0.1', { port });
      const timer = setInterval(() => {
        client.writeFC3(1, 0, REGISTERS, (err: Error | null, res: { data: number[] }) => {
          if (!err) values += res.data.length;
        });
      }, 1000);
      stops.push(async () => {
        clearInterval(timer);
        await new Promise<void>((r) => client.close(() => r()));
      });
    } else {
      const config = modbusDriverSchema.parse({
        kind: 'modbus',
        id: `m${port}`,
        bus: { type: 'tcp', host: '127.0.0.1', port },
        devices: [{ name: 'd', unit: 1, interval: '1s', sensors: Array.from({ length: REGISTERS }, (_, i) => ({ id: `p${port}.${i}`, register: 'holding', address: i })) }],
      });
      const ctx = { id: config.id, log: silentLogger, clock: systemClock, stateDir: '/nonexistent', emit: () => void values++, reportError: () => undefined };
      const driver = new ModbusDriver(config, ctx, new ModbusSerialTransport(config.bus));
      await driver.start();
      stops.push(() => driver.stop());
    }
  }
  await sleep(WARMUP * 1000);
  const cpu0 = process.cpuUsage();
  const values0 = values;
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const s = (performance.now() - t0) / 1000;
  for (const stop of stops) await stop();
  process.stdout.write(
    JSON.stringify({ valuesPerS: round((values - values0) / s, 1), cpuMsPerS: round((cpu.user + cpu.system) / 1000 / s), userMsPerS: round(cpu.user / 1000 / s), systemMsPerS: round(cpu.system / 1000 / s) }) + '\n',
  );
}

/** Run this script with `args`; resolve with the first line it prints. */
function child(args: string[]): { line: Promise<string>; kill(): void } {
  const p = spawn(process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    p.on('exit', (code) => reject(new Error(`bench modbus-steady: child ${args.join(' ')} exited ${code}`)));
  });
  return { line, kill: () => p.kill('SIGKILL') };
}

async function main(): Promise<void> {
  if (values.role === 'slaves') return slaves();
  if (values.role) return poller(values.role, (values.ports ?? '').split(',').map(Number));
  const common = ['--units', String(UNITS), '--registers', String(REGISTERS), '--warmup', String(WARMUP), '--seconds', String(SECONDS)];
  const slaveProc = child(['--role', 'slaves', ...common]);
  try {
    const ports = (JSON.parse(await slaveProc.line) as number[]).join(',');
    const out: Record<string, unknown> = {
      bench: 'modbus-steady',
      path: 'in-process pollers of Modbus TCP slaves in another process (loopback), 1 Hz; no pipeline, outbox or uplink',
      units: UNITS,
      registers: REGISTERS,
      transactionsPerS: UNITS,
      warmupS: WARMUP,
      seconds: SECONDS,
      nodeOptions: process.env.NODE_OPTIONS ?? '',
    };
    // One after the other: each alone on the machine with the slaves.
    for (const role of ['modbus-serial', 'driver']) {
      const p = child(['--role', role, '--ports', ports, ...common]);
      const r = JSON.parse(await p.line) as { cpuMsPerS: number };
      out[role] = { ...r, cpuMsPerTransaction: round(r.cpuMsPerS / UNITS, 3), cpuPercentOfCore: round(r.cpuMsPerS / 10) };
      p.kill();
    }
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    slaveProc.kill();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-modbus-steady: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
