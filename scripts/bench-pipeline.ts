/**
 * `npm run bench -- pipeline`: readings from a synthetic driver through a 7-stage
 * pipeline, the hub, the SQLite outbox and the MQTT uplink to a local Mosquitto,
 * in one process on one core. Prints JSON:
 *   readingsPerSecond   readings acknowledged by the broker (PUBACK) per second, steady state
 *   latencyMs p50/p99   from a reading entering the pipeline to the PUBACK of its batch
 *   peakRssMB           peak resident set size of the process
 *   outboxBytesPerReading  disk per buffered reading (200 000 readings, broker down)
 * Options: --seconds N (default 10), --sensors N (default 100), --rate N (readings/s to
 * offer; default: as fast as the outbox keeps up).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { parseConfig } from '../src/config/load';
import { Daemon, type DaemonOptions } from '../src/daemon/daemon';
import { Outbox } from '../src/outbox/outbox';
import { outboxSchema } from '../src/outbox/schema';
import type { Driver, DriverContext } from '../drivers/driver';
import { startMosquitto } from '../test/helpers/mosquitto';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, sensors: { type: 'string', default: '100' }, rate: { type: 'string' } },
});
const RATE = values.rate ? Number(values.rate) : undefined;
const SECONDS = Number(values.seconds);
const SENSORS = Number(values.sensors);
const WARMUP_MS = 1500;
const SENSOR_IDS = Array.from({ length: SENSORS }, (_, i) => `s${i}`);

const PIPELINE = `
        pipeline:
          - { kind: range, min: 0, max: 65535 }
          - { kind: spike, maxRate: 100000000 }
          - { kind: scale, rawMin: 0, rawMax: 65535, min: 0, max: 100 }
          - { kind: linearize, polynomial: [0.1, 1.0, 0.0001] }
          - { kind: average, samples: 4 }
          - { kind: deadband, threshold: 0.0001, maxInterval: 10s }
          - { kind: round, decimals: 3 }`;

function config(broker: string): string {
  const sensors = Array.from({ length: SENSORS }, (_, i) => `      - id: s${i}\n        waveform: constant${PIPELINE}`).join('\n');
  return `gateway: { id: bench }
uplink:
  brokers: [${broker}]
  protocolVersion: 4
  heartbeat: 1h
  inflight: 16
  batch: { maxReadings: 500, maxDelay: 20ms }
outbox: { flushInterval: 20ms, flushRows: 2000, maxMB: 512 }
drivers:
  - kind: sim
    id: load
    sensors:
${sensors}
`;
}

/** A driver that emits as fast as the outbox keeps up, in chunks between event-loop turns. */
class LoadDriver implements Driver {
  emitted = 0;
  private running = false;
  constructor(
    private readonly ctx: DriverContext,
    private readonly backlog: () => number,
  ) {}
  async start(): Promise<void> {
    this.running = true;
    const started = Date.now();
    const tick = () => {
      if (!this.running) return;
      // Paced: what the rate allows since start; unpaced: chunks while the outbox keeps up.
      const chunk = RATE ? Math.min(20_000, Math.floor(((Date.now() - started) * RATE) / 1000) - this.emitted) : this.backlog() < 10_000 ? 2000 : 0;
      // Each sensor's samples 1 ms apart, ending now (spike and average see real rates).
      const now = Date.now();
      for (let i = 0; i < chunk; i++) {
        const n = this.emitted++;
        this.ctx.emit(SENSOR_IDS[n % SENSORS], (n * 7919) % 65536, 'good', now - Math.ceil(chunk / SENSORS) + Math.floor(i / SENSORS));
      }
      if (RATE) setTimeout(tick, 5);
      else setImmediate(tick);
    };
    setImmediate(tick);
  }
  async stop(): Promise<void> {
    this.running = false;
  }
}

function mb(bytes: number): number {
  return Math.round(bytes / 1048576);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function outboxBytesPerReading(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-'));
  const ob = new Outbox({ path: path.join(dir, 'outbox.db'), config: outboxSchema.parse({}), clock: systemClock, log: silentLogger });
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 200_000; i++) ob.add({ sensor: `s${i % SENSORS}`, ts: start + i * 10, value: Math.round(((i * 7919) % 65536) * 1.5) / 1000, quality: 'good', flags: 0 });
  ob.flush();
  const st = ob.stats();
  ob.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return Math.round((st.bytes / st.depth) * 10) / 10;
}

/** Parsed here rather than in main(), whose frame lives for the whole run: the YAML document is garbage once the daemon exists. */
function benchDaemon(brokerUrl: string, stateDir: string, driverFactories: DaemonOptions['driverFactories']): Daemon {
  const parsed = parseConfig('bench.yaml', config(brokerUrl));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return new Daemon({ loaded: parsed.value, stateDir, clock: systemClock, log: silentLogger, driverFactories });
}

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-state-'));
  try {
    let load: LoadDriver | undefined;
    let daemon: Daemon | undefined = undefined;
    const backlog = () => {
      const st = daemon?.gateway.outbox.stats();
      return st ? st.depth + st.pending : 0;
    };
    daemon = benchDaemon(broker.url, stateDir, { load: (ctx) => (load = new LoadDriver(ctx, backlog)) });
    // Latency: on every 10th acknowledgement, the age of the oldest reading it covered.
    const outbox = daemon.gateway.outbox;
    const ack = outbox.ackReadings.bind(outbox);
    const latencies: number[] = [];
    let acked = 0;
    let ackCalls = 0;
    let measuring = false;
    outbox.ackReadings = (from: number, to: number) => {
      if (measuring && ackCalls++ % 10 === 0) {
        const [first] = outbox.peekReadings(from - 1, 1);
        if (first) latencies.push(Date.now() - first.ts);
      }
      const n = ack(from, to);
      if (measuring) acked += n;
      return n;
    };
    await daemon.start();
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    measuring = true;
    const t0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    measuring = false;
    // Peak RSS of the run itself, before the separate bytes-per-reading measurement below.
    const peakRssKB = process.resourceUsage().maxRSS;
    const mem = process.memoryUsage();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await daemon.stop();
    latencies.sort((a, b) => a - b);
    const result = {
      bench: 'pipeline',
      offeredRate: RATE ?? 'max',
      // NODE_OPTIONS (as the systemd unit sets them) do not show in execArgv.
      nodeOptions: [process.env.NODE_OPTIONS, ...process.execArgv].filter(Boolean).join(' '),
      mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? 'default',
      stages: 7,
      sensors: SENSORS,
      seconds: Math.round(seconds * 10) / 10,
      emitted: load?.emitted ?? 0,
      readingsPerSecond: Math.round(acked / seconds),
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), samples: latencies.length },
      peakRssMB: Math.round(peakRssKB / 1024),
      memoryMB: { heapUsed: mb(mem.heapUsed), heapTotal: mb(mem.heapTotal), external: mb(mem.external), arrayBuffers: mb(mem.arrayBuffers), rss: mb(mem.rss) },
      outboxBytesPerReading: outboxBytesPerReading(),
      node: process.version,
      cpu: os.cpus()[0]?.model,
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await broker.kill();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
