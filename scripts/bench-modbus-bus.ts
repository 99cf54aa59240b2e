/**
 * `npm run bench -- modbus-bus`: the JavaScript a Modbus poll costs, with nothing else
 * around it. UNITS drivers, one Modbus TCP bus each (as W2: `bench -- daemon --modbus
 * 20x20`), REGISTERS holding registers per device, polled at 1 s on a virtual clock that
 * is advanced as fast as the process can; the transport is a fake that answers every read
 * at once (no socket, no kernel, no wake-up). Measured: the driver's bus scheduler,
 * planner, request, answer and decode, to ctx.emit (values counted, then dropped: no
 * pipeline, outbox or uplink), in CPU µs per transaction after --warmup cycles.
 *
 * A tight loop keeps the code and its data in the CPU's caches; the daemon polling 20
 * meters once a second runs the same code cold, once a second, beside its syscalls and
 * wake-ups, so this is a floor for the driver's share, not a figure for the daemon.
 * Options: --units 20 --registers 20 --warmup 3000 --cycles 20000
 */
import { parseArgs } from 'node:util';
import { VirtualClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import type { DriverContext } from '../drivers/driver';
import { ModbusDriver } from '../drivers/modbus/driver';
import { modbusDriverSchema } from '../drivers/modbus/schema';
import type { ModbusTransport } from '../drivers/modbus/transport';

const { values: opts } = parseArgs({
  options: {
    units: { type: 'string', default: '20' },
    registers: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3000' },
    cycles: { type: 'string', default: '20000' },
  },
});
const UNITS = Number(opts.units);
const REGISTERS = Number(opts.registers);
const WARMUP = Number(opts.warmup);
const CYCLES = Number(opts.cycles);

let emitted = 0;

/** Answers every read at once with values that change from cycle to cycle. */
class InstantTransport implements ModbusTransport {
  readonly description = 'instant (fake)';
  private open_ = false;
  async open(): Promise<void> {
    this.open_ = true;
  }
  async close(): Promise<void> {
    this.open_ = false;
  }
  isOpen(): boolean {
    return this.open_;
  }
  read(_unit: number, _table: string, address: number, count: number): Promise<number[]> {
    const data = new Array<number>(count);
    for (let i = 0; i < count; i++) data[i] = (address + i + emitted) & 0xffff;
    return Promise.resolve(data);
  }
  async write(): Promise<void> {}
  async flush(): Promise<void> {}
  onDisconnect(): void {}
}

async function main(): Promise<void> {
  const clock = new VirtualClock();
  const ctx: DriverContext = { id: 'mb', log: silentLogger, clock, stateDir: '/nonexistent', emit: () => void emitted++, reportError: () => undefined };
  const drivers: ModbusDriver[] = [];
  for (let u = 0; u < UNITS; u++) {
    const config = modbusDriverSchema.parse({
      kind: 'modbus',
      id: `m${u}`,
      bus: { type: 'tcp', host: '127.0.0.1', port: 502 },
      devices: [{ name: `meter${u}`, unit: 1, interval: '1s', sensors: Array.from({ length: REGISTERS }, (_, r) => ({ id: `m${u}.r${r}`, register: 'holding', address: r })) }],
    });
    const driver = new ModbusDriver(config, ctx, new InstantTransport());
    await driver.start();
    drivers.push(driver);
  }
  for (let i = 0; i < WARMUP; i++) await clock.advanceAsync(1000);
  const emitted0 = emitted;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < CYCLES; i++) await clock.advanceAsync(1000);
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  for (const d of drivers) await d.stop();
  const transactions = CYCLES * UNITS;
  process.stdout.write(
    JSON.stringify({
      bench: 'modbus-bus',
      path: 'in-process, tight loop: ModbusDriver bus → request → instant fake transport → answer → decode → ctx.emit (dropped); virtual clock',
      units: UNITS,
      registers: REGISTERS,
      transactions,
      values: emitted - emitted0,
      cpuUsPerTransaction: Math.round(((cpu.user + cpu.system) / transactions) * 100) / 100,
      transactionsPerS: Math.round(transactions / wallS),
      nodeOptions: process.env.NODE_OPTIONS ?? '',
    }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-modbus-bus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
