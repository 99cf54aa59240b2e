/**
 * `npx tsx scripts/bench-control.ts`: the local control path in one process.
 * Prints JSON:
 *   latency.p50Us / p99Us   from a reading entering the rules engine to the actuator
 *                           write call (fake write), while `backgroundPerSecond`
 *                           other readings flow through the same engine
 *   throughput              readings/s and rule evaluations/s with 500 rules over
 *                           1 000 sensors (each rule reads two sensors)
 * `benchControl()` is the core, so a wider benchmark can feed readings through
 * the pipeline and hub instead (`entry`). Options: --seconds N (default 5).
 */
import { parseArgs } from 'node:util';
import { Arbiter } from '../src/arbiter/arbiter';
import { actuatorSchema } from '../src/config/actuator';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { reading, type Reading } from '../src/core/reading';
import { RulesEngine } from '../src/rules/engine';
import { parseRuleTexts, type RuleSet } from '../src/rules/load';

export interface ControlBenchOptions {
  seconds: number;
  backgroundPerSecond: number;
  /** Where readings enter (default: straight into the rules engine). */
  entry?: (engine: RulesEngine) => (r: Reading) => void;
}

export interface ControlBenchResult {
  latency: { samples: number; p50Us: number; p99Us: number; maxUs: number; backgroundPerSecond: number; backgroundDelivered: number };
  throughput: { rules: number; sensors: number; readingsPerSecond: number; ruleEvaluationsPerSecond: number };
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

export async function benchControl(opts: ControlBenchOptions): Promise<ControlBenchResult> {
  return { latency: await latency(opts), throughput: throughput(Math.max(1, opts.seconds / 2)) };
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
