/**
 * Modbus benchmark: prints one JSON object.
 *   planner  — transactions per poll cycle for a sample map of 200 points, vs the minimum
 *              the protocol allows (any gap spanned, ≤125 registers / ≤2000 bits per read)
 *   wire     — the driver polling that map over a socat pty pair against an RTU slave:
 *              transactions/s, transactions per cycle counted at the slave, and the idle
 *              gap the scheduler adds between a response and the next request beyond the
 *              configured inter-frame delay (p50/p99)
 * Run: npx tsx scripts/bench-modbus.ts [--seconds 3]
 */
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { ModbusDriver } from '../drivers/modbus/driver';
import { DeviceState } from '../drivers/modbus/device';
import { minimumRequests } from '../drivers/modbus/planner';
import { modbusDriverSchema, type ModbusDriverConfig } from '../drivers/modbus/schema';
import { ModbusSerialTransport, type ModbusTransport } from '../drivers/modbus/transport';
import type { RegisterKind } from '../drivers/modbus/schema';
import { RtuSlave, SlaveModel } from '../test/helpers/modbus-slave';
import { SocatPair } from '../test/helpers/socat';

const IFD_MS = 2;

/** 200 points on 3 devices, shaped like a power meter, a PLC and a drive. */
function sampleDevices(interval: string) {
  const meter = [0, 100, 300].flatMap((base, c) =>
    Array.from({ length: 20 }, (_, i) => ({ id: `meter.c${c}.${i}`, register: 'input', address: base + i * 2, type: 'float32', order: 'CDAB' })),
  );
  const plc = [
    ...Array.from({ length: 64 }, (_, i) => ({ id: `plc.coil${i}`, register: 'coil', address: i })),
    ...Array.from({ length: 40 }, (_, i) => ({ id: `plc.hr${i}`, register: 'holding', address: i * 2 })),
  ];
  const vfd = Array.from({ length: 36 }, (_, i) => ({ id: `vfd.${i}`, register: 'holding', address: Math.floor(i / 6) * 30 + (i % 6) }));
  return [
    { name: 'meter', unit: 1, interval, timeout: '200ms', sensors: meter },
    { name: 'plc', unit: 2, interval, timeout: '200ms', sensors: plc },
    { name: 'vfd', unit: 3, interval, timeout: '200ms', forbidden: [[100, 100]], sensors: vfd },
  ];
}

function plannerFigures(config: ModbusDriverConfig) {
  const perDevice = config.devices.map((d) => {
    const state = new DeviceState(d, silentLogger, 0);
    state.startCycle(0);
    const kinds = new Set<RegisterKind>(state.points.map((p) => p.register));
    const min = [...kinds].reduce(
      (n, k) => n + minimumRequests(state.points.filter((p) => p.register === k), { maxRegisters: d.maxRegisters, maxBits: d.maxBits, forbidden: d.forbidden }),
      0,
    );
    return { device: d.name, points: d.sensors.length, maxGap: d.maxGap, planned: state.reads.length, minimum: min };
  });
  const sum = (k: 'planned' | 'minimum' | 'points') => perDevice.reduce((n, d) => n + d[k], 0);
  return { points: sum('points'), transactionsPerCycle: sum('planned'), minimumPossible: sum('minimum'), perDevice };
}

/** A transport decorator timing the idle time between one transaction's end and the next's start. */
class TimedTransport implements ModbusTransport {
  readonly gaps: number[] = [];
  private lastEnd?: number;
  constructor(private readonly inner: ModbusTransport) {}
  get description() {
    return this.inner.description;
  }
  open = () => this.inner.open();
  close = () => this.inner.close();
  isOpen = () => this.inner.isOpen();
  flush = () => this.inner.flush();
  onDisconnect = (l: Parameters<ModbusTransport['onDisconnect']>[0]) => this.inner.onDisconnect(l);
  write: ModbusTransport['write'] = (...a) => this.timed(() => this.inner.write(...a));
  read: ModbusTransport['read'] = (...a) => this.timed(() => this.inner.read(...a));
  private async timed<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lastEnd !== undefined) this.gaps.push(performance.now() - this.lastEnd);
    try {
      return await fn();
    } finally {
      this.lastEnd = performance.now();
    }
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function wireFigures(seconds: number) {
  const cable = new SocatPair();
  const model = new SlaveModel();
  for (const u of [1, 2, 3]) model.addUnit(u);
  model.units.get(3)?.illegal.push({ table: 'holding', from: 100, to: 100 });
  const slave = new RtuSlave(model, cable.b, 115200);
  const config = modbusDriverSchema.parse({
    kind: 'modbus',
    id: 'bench',
    bus: { type: 'serial', path: cable.a, baudRate: 115200, interFrameDelay: `${IFD_MS}ms` },
    devices: sampleDevices('1ms'), // always due: the bus runs flat out
  });
  const transport = new TimedTransport(new ModbusSerialTransport(config.bus));
  let readings = 0;
  const ctx = {
    id: 'bench',
    log: silentLogger,
    clock: systemClock,
    stateDir: '/nonexistent',
    emit: () => void readings++,
    reportError: () => undefined,
  };
  const driver = new ModbusDriver(config, ctx, transport);
  try {
    await cable.start();
    await slave.open();
    await driver.start();
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await driver.stop();
    const elapsed = (performance.now() - t0) / 1000;
    const h = driver.health() as { devices: Record<string, { transactions: number }> };
    const tx = model.requests.length;
    const extra = transport.gaps.map((g) => g - IFD_MS);
    // Cycles per device = readings of one of its points; transactions per cycle counted at the slave.
    const perCycle = [1, 2, 3].reduce((n, u) => {
      const name = ['meter', 'plc', 'vfd'][u - 1];
      const cycles = Math.max(1, h.devices[name].transactions / Math.max(1, plannerFigures(config).perDevice[u - 1].planned));
      return n + model.count(u) / cycles;
    }, 0);
    return {
      link: `socat pty pair, 115200 baud (a pty does not pace bytes: this measures the stack, not the wire)`,
      seconds: round(elapsed, 2),
      transactions: tx,
      transactionsPerSecond: round(tx / elapsed, 1),
      readingsPerSecond: round(readings / elapsed, 0),
      transactionsPerCycleAtSlave: round(perCycle, 2),
      interFrameDelayMs: IFD_MS,
      idleBeyondInterFrameDelayMs: { p50: round(pct(extra, 50)), p99: round(pct(extra, 99)), max: round(Math.max(...extra)), samples: extra.length },
    };
  } finally {
    await driver.stop();
    await slave.close();
    await cable.dispose();
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--seconds');
  const seconds = i > 0 ? Number(process.argv[i + 1]) : 3;
  // Both from the raw config: a parsed one holds durations as bare ms, which the schema refuses.
  const raw = { kind: 'modbus', id: 'plan', bus: { type: 'tcp', host: 'x' } };
  const config = modbusDriverSchema.parse({ ...raw, devices: sampleDevices('1s') });
  const gap125 = modbusDriverSchema.parse({ ...raw, devices: sampleDevices('1s').map((d) => ({ ...d, maxGap: 125 })) });
  let wire: unknown;
  try {
    wire = await wireFigures(seconds);
  } catch (err) {
    wire = { skipped: `socat pty pair unavailable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const out = { bench: 'modbus', planner: plannerFigures(config), plannerMaxGap125: plannerFigures(gap125), wire };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-modbus: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
