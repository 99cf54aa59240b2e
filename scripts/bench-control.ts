/**
 * `npm run bench -- control` (or `npx tsx scripts/bench-control.ts`): the local
 * control path in one process. Prints JSON:
 *   latency.p50Us / p99Us   from a reading entering the rules engine to the actuator
 *                           write call (fake write), while `backgroundPerSecond`
 *                           other readings flow through the same engine
 *   pipelineLatency         the same through a whole in-process Daemon: driver
 *                           ctx.emit → pipeline → hub (sensor table, outbox, rules)
 *                           → arbiter → the fake driver's write call
 *   gpioLatency             FakeGpioChip input edge → gpio driver → pipeline → hub →
 *                           rule → arbiter → gpio driver → fake output line write,
 *                           in the same Daemon under the same background load
 *   throughput              readings/s and rule evaluations/s with 500 rules over
 *                           1 000 sensors (each rule reads two sensors)
 * `benchControl()` is the core, so a wider benchmark can feed readings through
 * the pipeline and hub instead (`entry`). Options: --seconds N (default 5).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Arbiter } from '../src/arbiter/arbiter';
import { actuatorSchema } from '../src/config/actuator';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { reading, type Reading } from '../src/core/reading';
import { parseConfig } from '../src/config/load';
import { Daemon } from '../src/daemon/daemon';
import { RulesEngine } from '../src/rules/engine';
import { parseRuleTexts, type RuleSet } from '../src/rules/load';
import type { Driver, DriverContext } from '../drivers/driver';
import { FakeGpioChip, makeGpioDriverKind, type GpioLineFactory, type Level } from '../drivers/gpio';
import type { GpioDriverConfig } from '../drivers/gpio/schema';

export interface ControlBenchOptions {
  seconds: number;
  backgroundPerSecond: number;
  /** Where readings enter (default: straight into the rules engine). */
  entry?: (engine: RulesEngine) => (r: Reading) => void;
}

export interface ControlBenchResult {
  latency: { samples: number; p50Us: number; p99Us: number; maxUs: number; backgroundPerSecond: number; backgroundDelivered: number };
  throughput: { rules: number; sensors: number; readingsPerSecond: number; ruleEvaluationsPerSecond: number };
  /** ctx.emit → pipeline → hub → rules → arbiter → fake driver write, in a whole Daemon. */
  pipelineLatency: DaemonLatency;
  /** FakeGpioChip edge → gpio driver → … → rules → arbiter → gpio driver → fake output line write. */
  gpioLatency: DaemonLatency;
  /** What the background costs: µs per background reading through the whole Daemon path. */
  background: { perSecond: number; delivered: number; chunk: number; usPerReading: number; chunkP99Us: number };
  /**
   * Outbox commits (one SQLite transaction per flushRows readings, run inside the hub
   * when the batch fills): a reading that arrives during one waits for it.
   */
  outboxCommits: { perSecond: number; p50Us: number; p99Us: number; maxUs: number };
}

/** Latency figures of one control path measured in the Daemon; `missed`: injected but never written. */
export interface DaemonLatency {
  samples: number;
  missed: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
}

function compile(text: string): RuleSet {
  const res = parseRuleTexts([{ file: 'bench.yaml', text }]);
  if (!res.ok) throw new Error(JSON.stringify(res.problems));
  return res.set;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Latency of the control path under background load, on the real clock. */
async function latency(opts: ControlBenchOptions): Promise<ControlBenchResult['latency']> {
  let sentAt = 0n;
  const samples: number[] = [];
  const arbiter = new Arbiter({
    actuators: [actuatorSchema.parse({ id: 'fan', driver: 'bench', target: {}, initial: false, maxWritesPerMinute: 1_000_000 })],
    clock: systemClock,
    log: silentLogger,
    publishEvent: () => {},
    write: async () => {
      if (sentAt !== 0n) samples.push(Number(process.hrtime.bigint() - sentAt) / 1000);
      sentAt = 0n;
    },
  });
  const background = Array.from({ length: 500 }, (_, i) => `  - id: bg${i}\n    when: bg.s${i % 1000} > 50 and bg.s${(i * 7 + 1) % 1000} < 90\n    maxAge: 1h\n    then:\n      - event: { severity: info, message: bg }\n`).join('');
  const set = compile(`rules:\n  - id: ctl\n    when: ctl.temp > 80\n    maxAge: 1h\n    then:\n      - set: { actuator: fan, value: true }\n${background}`);
  const engine = new RulesEngine({ clock: systemClock, log: silentLogger, arbiter, publishEvent: () => {} });
  engine.load(set);
  arbiter.start();
  engine.start();
  const enter = opts.entry ? opts.entry(engine) : (r: Reading) => engine.accept(r);
  const bgReading = reading('bg.s0', 0, 0);
  let delivered = 0;
  let hot = false;
  const tickMs = 10;
  const perTick = Math.round((opts.backgroundPerSecond * tickMs) / 1000);
  const end = Date.now() + opts.seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    const tickStart = Date.now();
    for (let i = 0; i < perTick; i++, n++) {
      bgReading.sensor = `bg.s${n % 1000}`;
      bgReading.ts = tickStart;
      bgReading.value = (n * 37) % 100;
      enter(bgReading);
      delivered++;
      if (i === perTick >> 1) {
        // the control reading, in the middle of the background batch
        hot = !hot;
        sentAt = process.hrtime.bigint();
        enter(reading('ctl.temp', tickStart, hot ? 81 : 79));
      }
    }
    await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - tickStart))));
  }
  engine.stop();
  arbiter.stop();
  samples.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    samples: samples.length,
    p50Us: round(percentile(samples, 50)),
    p99Us: round(percentile(samples, 99)),
    maxUs: round(samples[samples.length - 1]),
    backgroundPerSecond: opts.backgroundPerSecond,
    backgroundDelivered: delivered,
  };
}

/** Readings per second through an engine with 500 rules over 1 000 sensors. */
function throughput(seconds: number): ControlBenchResult['throughput'] {
  const SENSORS = 1000;
  const RULES = 500;
  const text = Array.from(
    { length: RULES },
    (_, i) =>
      `  - id: r${i}\n    when: s${(2 * i) % SENSORS} > 50 and s${(2 * i + 1) % SENSORS} < 90 or abs(s${(2 * i) % SENSORS} - 30) < 1\n    for: 2s\n    until: s${(2 * i) % SENSORS} < 40\n    maxAge: 1h\n    then:\n      - set: { actuator: out${i % 50}, value: true }\n`,
  ).join('');
  const set = compile(`rules:\n${text}`);
  const rulesPerSensor = new Map<string, number>();
  for (const r of set.rules) for (const s of r.inputs) rulesPerSensor.set(s, (rulesPerSensor.get(s) ?? 0) + 1);
  const arbiter = { hold: () => ({ ok: true }), release: () => {}, failsafe: () => false };
  const engine = new RulesEngine({ clock: systemClock, log: silentLogger, arbiter, publishEvent: () => {} });
  engine.load(set);
  const ids = Array.from({ length: SENSORS }, (_, i) => `s${i}`);
  const r = reading('s0', Date.now(), 0);
  let readings = 0;
  let evaluations = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(seconds * 1e9);
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < 10_000; i++, readings++) {
      r.sensor = ids[readings % SENSORS];
      r.value = (readings * 7919) % 100;
      engine.accept(r);
      evaluations += rulesPerSensor.get(r.sensor) ?? 0;
    }
  }
  const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
  engine.stop();
  return { rules: RULES, sensors: SENSORS, readingsPerSecond: Math.round(readings / elapsedS), ruleEvaluationsPerSecond: Math.round(evaluations / elapsedS) };
}

const BG_SENSORS = 1000;
const DOOR_PIN = 17;
const RELAY_PIN = 27;
const STAGES = '[{ kind: range, min: -50, max: 150 }, { kind: deadband, threshold: 0.1 }]';

function daemonConfig(): string {
  const bg = Array.from({ length: BG_SENSORS }, (_, i) => `      - { id: bg.s${i}, waveform: constant, pipeline: ${STAGES} }\n`).join('');
  return `gateway: { id: bench }
drivers:
  - kind: sim
    id: load
    outputs: { fan: 0 }
    sensors:
      - { id: ctl.temp, waveform: constant, pipeline: ${STAGES} }
${bg}  - kind: gpio
    id: pins
    inputs:
      - { id: door.open, pin: ${DOOR_PIN}, interval: 1h }
actuators:
  - { id: fan, driver: load, target: { output: fan }, initial: false, maxWritesPerMinute: 1000000 }
  - { id: relay, driver: pins, target: { pin: ${RELAY_PIN}, activeLow: true }, initial: false, maxWritesPerMinute: 1000000 }
`;
}

/**
 * The two control rules, and 500 background rules over the 1 000 background sensors,
 * evaluated on every background reading but never firing (the values are 0..99), so
 * no alarm storm adds event commits to the outbox.
 */
function daemonRules(): string {
  const bg = Array.from(
    { length: 500 },
    (_, i) => `  - id: bg${i}\n    when: bg.s${(2 * i) % BG_SENSORS} > 99.5 and bg.s${(2 * i + 1) % BG_SENSORS} < 90\n    maxAge: 1h\n    then:\n      - event: { severity: info, message: bg }\n`,
  ).join('');
  return `rules:
  - id: ctl
    when: ctl.temp > 80
    maxAge: 1h
    then:
      - set: { actuator: fan, value: true }
  - id: door
    when: door.open == 1
    maxAge: 1h
    then:
      - set: { actuator: relay, value: true }
${bg}`;
}

/** A line factory over `chip` that reports every write to an output line, before the write. */
function timedLines(chip: FakeGpioChip, onWrite: (pin: number, level: Level) => void): GpioLineFactory {
  return {
    name: 'fake',
    open: async (req) => {
      const line = await chip.open(req);
      if (req.direction === 'in') return line;
      return {
        ...line,
        write: (level: Level) => {
          onWrite(line.pin, level);
          return line.write(level);
        },
      };
    },
  };
}

function summarize(samples: number[], injected: number): DaemonLatency {
  samples.sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    samples: samples.length,
    missed: injected - samples.length,
    p50Us: round(percentile(samples, 50)),
    p99Us: round(percentile(samples, 99)),
    maxUs: round(samples[samples.length - 1]),
  };
}

const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The whole real path in an in-process Daemon (no uplink: readings stay in the
 * SQLite outbox). A fake "load" driver emits the background readings and the
 * control reading through its ctx.emit; a FakeGpioChip gives the door edges.
 * The edge and the control reading arrive in macrotasks of their own between
 * background chunks, so their latency is their own path (plus the microtask hops
 * of async writes), not time spent queued behind a chunk: that wait is at most
 * one chunk (`background.chunkP99Us`). The first second is a warm-up.
 */
async function daemonLatency(opts: ControlBenchOptions): Promise<Pick<ControlBenchResult, 'pipelineLatency' | 'gpioLatency' | 'background' | 'outboxCommits'>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-control-'));
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'bench.yaml'), daemonRules());
  const parsed = parseConfig('bench.yaml', daemonConfig());
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  const pinsConfig = parsed.value.config.drivers.find((d) => d.id === 'pins') as GpioDriverConfig;

  let measuring = false;
  let emittedAt = 0n;
  let edgeAt = 0n;
  const ctlSamples: number[] = [];
  const gpioSamples: number[] = [];
  const elapsedUs = (since: bigint) => Number(process.hrtime.bigint() - since) / 1000;
  let loadCtx: DriverContext | undefined;
  const load: Driver = {
    start: async () => {},
    stop: async () => {},
    write: async () => {
      if (emittedAt !== 0n && measuring) ctlSamples.push(elapsedUs(emittedAt));
      emittedAt = 0n;
    },
  };
  const chip = new FakeGpioChip(systemClock);
  const lines = timedLines(chip, (pin) => {
    if (pin === RELAY_PIN && edgeAt !== 0n && measuring) gpioSamples.push(elapsedUs(edgeAt));
    edgeAt = 0n;
  });
  const gpio = makeGpioDriverKind({ lineFactory: lines });
  const daemon = new Daemon({
    loaded: parsed.value,
    stateDir: path.join(dir, 'state'),
    rulesDir,
    clock: systemClock,
    log: silentLogger,
    driverFactories: {
      load: (ctx) => ((loadCtx = ctx), load),
      pins: (ctx) => gpio.create(pinsConfig, ctx),
    },
  });
  const outbox = daemon.gateway.outbox;
  const flush = outbox.flush.bind(outbox);
  const commitUs: number[] = [];
  outbox.flush = () => {
    const t0 = process.hrtime.bigint();
    const ok = flush();
    if (measuring) commitUs.push(elapsedUs(t0));
    return ok;
  };
  await daemon.start();
  try {
    const emit = loadCtx!.emit;
    const ids = Array.from({ length: BG_SENSORS }, (_, i) => `bg.s${i}`);
    // Background every 2 ms in chunks of 20 readings (10 000/s), each chunk one macrotask
    // like a driver's poll result; the door edge and the control reading follow a chunk
    // in macrotasks of their own, each 100 times a second.
    const slotMs = 2;
    const chunk = Math.max(1, Math.round((opts.backgroundPerSecond * slotMs) / 1000));
    const chunkUs: number[] = [];
    let delivered = 0;
    let edges = 0;
    let ctlReadings = 0;
    let door: Level = 0;
    let hot = false;
    let n = 0;
    const warmupEnd = Date.now() + Math.min(1000, opts.seconds * 200);
    const end = warmupEnd + opts.seconds * 1000;
    const first = Date.now();
    for (let slot = 0; Date.now() < end; slot++) {
      const wait = first + slot * slotMs - Date.now();
      await (wait > 0 ? new Promise((r) => setTimeout(r, wait)) : nextMacrotask());
      if (!measuring && Date.now() >= warmupEnd) measuring = true;
      const t0 = process.hrtime.bigint();
      const ts = Date.now();
      for (let i = 0; i < chunk; i++, n++) emit(ids[n % BG_SENSORS], (Math.floor(n / BG_SENSORS) * 37 + n) % 100, 'good', ts);
      if (measuring) {
        chunkUs.push(elapsedUs(t0));
        delivered += chunk;
      }
      if (slot % 5 === 1) {
        await nextMacrotask();
        door = door === 1 ? 0 : 1;
        if (measuring) edges++;
        edgeAt = process.hrtime.bigint();
        chip.edge(DOOR_PIN, door);
      } else if (slot % 5 === 3) {
        await nextMacrotask();
        hot = !hot;
        if (measuring) ctlReadings++;
        emittedAt = process.hrtime.bigint();
        emit('ctl.temp', hot ? 81 : 79, 'good', Date.now());
      }
    }
    const perReading = chunkUs.reduce((a, b) => a + b, 0) / Math.max(1, delivered);
    chunkUs.sort((a, b) => a - b);
    const commits = summarize(commitUs, commitUs.length);
    return {
      pipelineLatency: summarize(ctlSamples, ctlReadings),
      gpioLatency: summarize(gpioSamples, edges),
      background: {
        perSecond: Math.round(delivered / opts.seconds),
        delivered,
        chunk,
        usPerReading: Math.round(perReading * 100) / 100,
        chunkP99Us: Math.round(percentile(chunkUs, 99) * 10) / 10,
      },
      outboxCommits: { perSecond: Math.round(commitUs.length / opts.seconds), p50Us: commits.p50Us, p99Us: commits.p99Us, maxUs: commits.maxUs },
    };
  } finally {
    await daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchControl(opts: ControlBenchOptions): Promise<ControlBenchResult> {
  const engineOnly = await latency(opts);
  const rules = throughput(Math.max(1, opts.seconds / 2));
  return { latency: engineOnly, throughput: rules, ...(await daemonLatency(opts)) };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '5' } } });
  benchControl({ seconds: Number(values.seconds), backgroundPerSecond: 10_000 }).then(
    (res) => process.stdout.write(JSON.stringify(res, null, 2) + '\n'),
    (err: unknown) => {
      process.stderr.write(`bench-control: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
