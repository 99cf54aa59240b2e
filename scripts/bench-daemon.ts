/**
 * `npm run bench -- daemon`: the real daemon, measured from outside.
 *
 *   paced sim (pace.rate) → 4-stage pipelines → outbox (SQLite) → uplink ─► Mosquitto ─► subscriber (this process)
 *   └──────────────── `node bin/fieldgate.js run` child process ───────────┘
 *
 * The daemon is the built `fieldgate run` with the runtime settings of
 * systemd/fieldgate.service (bench.ts puts its NODE_OPTIONS and MALLOC_ARENA_MAX
 * in the environment; `--node-defaults` leaves Node's), default uplink and outbox
 * settings, and no rules. An independent MQTT subscriber counts the readings that
 * arrive; CPU time is the daemon's utime + stime from /proc/<pid>/stat; RSS from
 * /proc/<pid>/status. One JSON object per run, then a summary:
 *   offered            readings/s the sim was asked for
 *   received           readings/s counted at the subscriber over the window
 *   cpuMsPer1000       ms of daemon CPU per 1 000 readings received
 *   cpuPercentOfCore   daemon CPU time / wall time
 *   cpuSplitPercent    the same split into user/system and into the main thread and the helpers
 *                      (V8's platform workers and libuv's pool, both named "node" by Node 20)
 *   threadsMsPerS      ms of CPU a second per thread group (schedstat: nanoseconds, not clock ticks)
 *   runsPerS           times a second the group's threads were put on a CPU (wake-ups, plus preemptions)
 *   rssMB, peakRssMB   VmRSS at the end of the window, VmHWM
 *   latencyMs          reading timestamp → arrival at the subscriber, p50/p99
 *   skipped            readings the sim could not offer because the daemon's loop fell behind
 *   modbus: transactionsPerS, cpuMsPerTransaction (counted at the slaves)
 * Options: --sensors 10,100,1000,10000  --rate 10000 (readings/s, a list is crossed
 * with --sensors)  --seconds 10 (measuring window)  --warmup 3  --repeat 1  --tick 10ms
 * (the sim's pace tick; every tick is an event-loop wakeup the daemon's CPU includes).
 * --modbus UNITSxREGISTERS (e.g. 20x20) measures steady field polling instead: that
 * many Modbus TCP slaves (in this process, each on its own port, one device of that
 * many holding registers, every value changing every second) polled at 1 Hz by one
 * modbus driver each, scale → deadband → MQTT. With --link serial, one RTU slave behind a
 * socat pty pair answers for units 1..UNITS, all on one modbus driver (one serial line,
 * transactions one after the other, the inter-frame delay between them).
 * --cpu-prof DIR runs the daemon under `node --cpu-prof` and leaves its profile in DIR
 * (written when the daemon exits on SIGTERM; the profiler's own cost is in that run's CPU).
 * --node-flags="FLAGS" puts Node/V8 flags on the daemon's command line (e.g. --trace-gc,
 * or a flag the unit's ExecStart would carry), split at spaces; its stdout goes to
 * DIR/daemon.out when --cpu-prof DIR is given, else nowhere.
 * --write-config FILE writes the sim config of the first --sensors and --rate (broker
 * mqtt://127.0.0.1:1883) and exits: e.g. for `fieldgate config check` of 10 000 sensors.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'mqtt';
import { controlRequest } from '../src/control/client';
import type { StatusSnapshot } from '../src/daemon/view';
import { RtuSlave, SlaveModel, startTcpSlave } from '../test/helpers/modbus-slave';
import { SocatPair } from '../test/helpers/socat';
import { startMosquitto } from '../test/helpers/mosquitto';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/fieldgate.js');

const { values } = parseArgs({
  options: {
    sensors: { type: 'string', default: '10,100,1000,10000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    modbus: { type: 'string' },
    link: { type: 'string', default: 'tcp' },
    'write-config': { type: 'string' },
    tick: { type: 'string', default: '10ms' },
    'cpu-prof': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
  },
});
const list = (s: string) => s.split(',').map((x) => Number(x.trim()));
const SENSORS = list(values.sensors);
const RATES = list(values.rate);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const REPEAT = Number(values.repeat);
const MODBUS = values.modbus ? values.modbus.split('x').map(Number) : undefined;
for (const n of [...SENSORS, ...RATES, SECONDS, REPEAT, ...(MODBUS ?? [])]) if (!Number.isFinite(n) || n <= 0) throw new Error(`bench daemon: bad option value ${n}`);
if (MODBUS && (MODBUS.length !== 2 || MODBUS[1] > 125)) throw new Error('bench daemon: --modbus UNITSxREGISTERS, at most 125 registers (one read)');
if (values.link !== 'tcp' && values.link !== 'serial') throw new Error('bench daemon: --link tcp|serial');
const LINK = values.link === 'serial' ? 'serial' : 'tcp';
if (LINK === 'serial' && MODBUS && MODBUS[0] > 247) throw new Error('bench daemon: --link serial takes at most 247 units (RTU unit ids 1-247)');

/** What a run measures: the daemon's config, and anything outside the daemon it needs. */
interface Workload {
  name: string;
  config(gw: string, broker: string): string;
  /** Started before the daemon, stopped after it. */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  /** Figures of the workload itself over the measuring window. */
  figures?(windowMs: number, cpuMs: number): Record<string, unknown>;
  mark?(): void;
}

function simWorkload(sensors: number, rate: number): Workload {
  return { name: `sim-${sensors}-${rate}`, config: (gw, broker) => config(gw, broker, sensors, rate) };
}

/**
 * n counter sensors, each raw step 1 → 0.001 after scale, so the deadband (0.0005)
 * and round (3 decimals) pass every reading: what arrives is what was offered.
 */
function config(gw: string, broker: string, sensors: number, rate: number): string {
  const lines = [`gateway: { id: ${gw}, logLevel: warn }`, `uplink: { brokers: [${broker}] }`, 'drivers:', '  - kind: sim', '    id: load', `    pace: { rate: ${rate}, tick: ${values.tick} }`, '    sensors:'];
  for (let i = 0; i < sensors; i++) {
    lines.push(
      `      - id: s${i}`,
      '        waveform: counter',
      '        pipeline:',
      '          - { kind: range, min: 0, max: 1000000000 }',
      '          - { kind: scale, rawMin: 0, rawMax: 1000000, min: 0, max: 1000 }',
      '          - { kind: deadband, threshold: 0.0005, maxInterval: 60s }',
      '          - { kind: round, decimals: 3 }',
    );
  }
  return lines.join('\n') + '\n';
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime and stime of a process or thread from its stat file, in ms. */
function statTimes(file: string): { user: number; system: number } {
  const stat = fs.readFileSync(file, 'utf8');
  // Fields after "(comm)": state is field 3, utime 14, stime 15.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) * 1000) / CLK_TCK, system: (Number(f[12]) * 1000) / CLK_TCK };
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const t = statTimes(`/proc/${pid}/stat`);
  return t.user + t.system;
}

/**
 * The daemon's threads: the main thread (JavaScript, libuv's loop, SQLite's calls) and the
 * helpers, V8's platform workers (GC, compiler) and libuv's pool (fs, dns, and serialport's
 * open, close and flush): Node 20 names all of them "node", so they are not told apart.
 * Threads that ended between two samples are missed, so the parts may sum to less.
 */
const threadGroup = (pid: number, tid: string): 'main' | 'helpers' => (tid === String(pid) ? 'main' : 'helpers');

/** user and system time of the daemon, and its CPU per thread group, in ms (stat's clock ticks). */
function cpuSplit(pid: number): Record<string, number> {
  const out: Record<string, number> = { ...statTimes(`/proc/${pid}/stat`), main: 0, helpers: 0 };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let t;
    try {
      t = statTimes(`/proc/${pid}/task/${tid}/stat`);
    } catch {
      continue; // ended meanwhile
    }
    out[threadGroup(pid, tid)] += t.user + t.system;
  }
  return out;
}

/**
 * CPU time and run count per thread group from /proc/PID/task/TID/schedstat (nanoseconds on
 * a CPU, and how many times the thread was put on one: a wake-up, or a return after
 * preemption), finer than stat's clock ticks: at W2's 3–5 ms a second, a 10 ms tick is a
 * quarter of a second's CPU.
 */
function schedSplit(pid: number): Record<string, { ns: number; runs: number }> {
  const out: Record<string, { ns: number; runs: number }> = { main: { ns: 0, runs: 0 }, helpers: { ns: 0, runs: 0 } };
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let f: string[];
    try {
      f = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
    } catch {
      continue; // ended meanwhile
    }
    const g = out[threadGroup(pid, tid)];
    g.ns += Number(f[0]);
    g.runs += Number(f[2]);
  }
  return out;
}

function statusKB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Latencies in whole ms, counted per ms up to a minute (bounded memory at any rate). */
class Histogram {
  private readonly counts = new Uint32Array(60_001);
  n = 0;
  add(ms: number, times: number): void {
    this.counts[Math.max(0, Math.min(60_000, Math.round(ms)))] += times;
    this.n += times;
  }
  percentile(p: number): number {
    const want = Math.ceil((p / 100) * this.n);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) if ((seen += this.counts[i]) >= want && want > 0) return i;
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Steady Modbus polling, every value +1 per second. `tcp`: `units` Modbus TCP slaves, each
 * on its own port with one unit of `registers` holding registers, one modbus driver (bus)
 * each. `serial`: one RTU slave behind a socat pty pair (115 200 baud; a pty does not pace
 * bytes) answering for units 1..`units`, all polled by one modbus driver on that line, one
 * transaction after the other with the inter-frame delay between them.
 */
function modbusWorkload(units: number, registers: number, link: 'tcp' | 'serial'): Workload {
  const models: SlaveModel[] = [];
  const closers: (() => Promise<void>)[] = [];
  const buses: string[] = [];
  let ticker: NodeJS.Timeout | undefined;
  let requests0 = 0;
  const requests = () => models.reduce((n, m) => n + m.requests.length, 0);
  /** Unit `unit` on the slave `model`, its registers starting from meter `u`'s values. */
  const addUnit = (model: SlaveModel, unit: number, u: number) => {
    const bank = model.addUnit(unit);
    for (let r = 0; r < registers; r++) bank.holding[r] = 1000 * u + r;
  };
  const device = (u: number, unit: number) => [`      - name: meter${u}`, `        unit: ${unit}`, '        interval: 1s', '        sensors:'].concat(
    Array.from({ length: registers }, (_, r) => [
      `          - id: m${u}.r${r}`,
      '            register: holding',
      `            address: ${r}`,
      '            pipeline:',
      '              - { kind: scale, rawMin: 0, rawMax: 65535, min: 0, max: 655.35 }',
      '              - { kind: deadband, threshold: 0.005, maxInterval: 5m }',
    ]).flat(),
  );
  return {
    name: link === 'tcp' ? `modbus-${units}x${registers}` : `modbus-rtu-${units}x${registers}`,
    async start() {
      // A new set of slaves (new ports, a new pty pair) for every repeat.
      models.length = closers.length = buses.length = 0;
      if (link === 'tcp') {
        for (let u = 0; u < units; u++) {
          const model = new SlaveModel();
          addUnit(model, 1, u);
          const tcp = await startTcpSlave(model);
          models.push(model);
          closers.push(tcp.close);
          buses.push(`{ type: tcp, host: 127.0.0.1, port: ${tcp.port} }`);
        }
      } else {
        const cable = new SocatPair();
        closers.push(() => cable.dispose());
        await cable.start();
        const model = new SlaveModel();
        for (let u = 0; u < units; u++) addUnit(model, u + 1, u);
        const slave = new RtuSlave(model, cable.b);
        await slave.open();
        closers.unshift(() => slave.close());
        models.push(model);
        buses.push(`{ type: serial, path: ${cable.a}, baudRate: 115200 }`);
      }
      ticker = setInterval(() => {
        for (const m of models) {
          for (const bank of m.units.values()) for (let r = 0; r < registers; r++) bank.holding[r] = (bank.holding[r] + 1) & 0xffff;
          // Only the count is needed: keep the request log from growing for the whole run.
          if (m.requests.length > 100_000) m.requests.length = 0;
        }
      }, 1000);
    },
    async stop() {
      clearInterval(ticker);
      for (const close of closers) await close();
    },
    config(gw, broker) {
      const lines = [`gateway: { id: ${gw}, logLevel: warn }`, `uplink: { brokers: [${broker}] }`, 'drivers:'];
      if (link === 'tcp') buses.forEach((bus, u) => lines.push('  - kind: modbus', `    id: m${u}`, `    bus: ${bus}`, '    devices:', ...device(u, 1)));
      else lines.push('  - kind: modbus', '    id: m0', `    bus: ${buses[0]}`, '    devices:', ...Array.from({ length: units }, (_, u) => device(u, u + 1)).flat());
      return lines.join('\n') + '\n';
    },
    mark() {
      requests0 = requests();
    },
    figures(windowMs, cpuMs) {
      const n = requests() - requests0;
      return { transactionsPerS: Math.round((n * 1000) / windowMs), cpuMsPerTransaction: n > 0 ? Math.round((cpuMs / n) * 1000) / 1000 : null };
    },
  };
}

async function run(brokerUrl: string, w: Workload, n: number): Promise<Record<string, unknown>> {
  const gw = `bench-${w.name}-${n}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-daemon-'));
  const cfg = path.join(dir, 'gateway.yaml');
  await w.start?.();
  fs.writeFileSync(cfg, w.config(gw, brokerUrl));
  fs.mkdirSync(path.join(dir, 'rules.d'));
  const socket = path.join(dir, 'control.sock');

  let counting = false;
  let received = 0;
  const latency = new Histogram();
  const sub = connect(brokerUrl, { clean: true, reconnectPeriod: 0 });
  sub.on('message', (_topic, payload) => {
    if (!counting) return;
    const now = Date.now();
    const batch = JSON.parse(payload.toString()) as { r: [string, number][] };
    received += batch.r.length;
    // Every reading of the batch arrived now; group equal timestamps (one sim tick).
    let ts = NaN;
    let same = 0;
    for (const r of batch.r) {
      if (r[1] === ts) same++;
      else {
        if (same > 0) latency.add(now - ts, same);
        ts = r[1];
        same = 1;
      }
    }
    if (same > 0) latency.add(now - ts, same);
  });
  await new Promise<void>((resolve, reject) => sub.once('connect', () => resolve()).once('error', reject));
  await sub.subscribeAsync(`fieldgate/${gw}/data`, { qos: 1 });

  const loadBefore = os.loadavg();
  const profDir = values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined;
  const profile = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const nodeFlags = values['node-flags'].split(' ').filter(Boolean);
  const daemon = spawn(process.execPath, [...profile, ...nodeFlags, BIN, 'run', '--config', cfg, '--rules', path.join(dir, 'rules.d'), '--state', path.join(dir, 'state'), '--socket', socket], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (profDir) daemon.stdout.pipe(fs.createWriteStream(path.join(profDir, 'daemon.out'), { flags: 'a' }));
  else daemon.stdout.resume();
  let stderr = '';
  daemon.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => daemon.once('exit', (code) => r(code)));
  const pid = daemon.pid as number;
  try {
    const started = Date.now();
    const loadStart = await waitForStatus(socket, exited);
    const loadMs = Date.now() - started;
    const idleRssKB = statusKB(pid, 'VmRSS');
    await sleep(WARMUP * 1000);
    const cpu0 = cpuMs(pid);
    const split0 = cpuSplit(pid);
    const sched0 = schedSplit(pid);
    const t0 = process.hrtime.bigint();
    w.mark?.();
    counting = true;
    await sleep(SECONDS * 1000);
    counting = false;
    const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = cpuMs(pid) - cpu0;
    const split1 = cpuSplit(pid);
    const sched1 = schedSplit(pid);
    const perS = (x: number) => Math.round((x * 1000 * 100) / wallMs) / 100;
    const threadsMsPerS = Object.fromEntries(Object.keys(sched1).map((k) => [k, perS((sched1[k].ns - sched0[k].ns) / 1e6)]));
    const runsPerS = Object.fromEntries(Object.keys(sched1).map((k) => [k, Math.round(((sched1[k].runs - sched0[k].runs) * 10_000) / wallMs) / 10]));
    const cpuSplitPercent = Object.fromEntries(Object.keys(split1).map((k) => [k, round1(((split1[k] - split0[k]) / wallMs) * 100)]));
    const rssKB = statusKB(pid, 'VmRSS');
    const peakKB = statusKB(pid, 'VmHWM');
    const status = (await controlRequest(socket, 'status')) as StatusSnapshot;
    const sim = status.drivers.find((d) => d.id === 'load')?.detail?.paced as { rate: number; skipped: number } | undefined;
    const figures = w.figures?.(wallMs, cpu) ?? {};
    daemon.kill('SIGTERM');
    const code = await exited;
    return {
      bench: 'daemon',
      workload: w.name,
      sensors: loadStart,
      offered: sim?.rate ?? null,
      received: Math.round((received * 1000) / wallMs),
      cpuMsPer1000: received > 0 ? round1((cpu * 1000) / received) : null,
      cpuPercentOfCore: round1((cpu / wallMs) * 100),
      cpuSplitPercent,
      threadsMsPerS,
      runsPerS,
      rssMB: Math.round(rssKB / 1024),
      peakRssMB: Math.round(peakKB / 1024),
      idleRssMB: Math.round(idleRssKB / 1024),
      startToStatusMs: loadMs,
      latencyMs: { p50: latency.percentile(50), p99: latency.percentile(99) },
      skipped: sim?.skipped ?? null,
      ...figures,
      seconds: round1(wallMs / 1000),
      exitCode: code,
      loadavg1: { before: round1(loadBefore[0]), after: round1(os.loadavg()[0]) },
    };
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    await exited;
    await sub.endAsync(true);
    await w.stop?.();
    fs.rmSync(dir, { recursive: true, force: true });
    if (stderr.trim()) console.error(`daemon stderr (${gw}):\n${stderr.trim()}`);
  }
}

/** Wait until the control socket answers and every driver runs; the number of sensors the daemon reports. */
async function waitForStatus(socket: string, exited: Promise<number | null>): Promise<number> {
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error('the daemon exited before it answered on its control socket');
    try {
      const s = (await controlRequest(socket, 'status', {}, 2000)) as StatusSnapshot;
      if (s.drivers.every((d) => d.state === 'running')) return Number((await controlRequest(socket, 'sensors', {}, 5000) as unknown[]).length);
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
}

async function main(): Promise<void> {
  if (values['write-config']) {
    fs.writeFileSync(values['write-config'], config('bench', 'mqtt://127.0.0.1:1883', SENSORS[0], RATES[0]));
    return;
  }
  const broker = await startMosquitto();
  const uptime = () => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  const runs: Record<string, unknown>[] = [];
  try {
    const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, nodeOptions: process.env.NODE_OPTIONS ?? '', mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? 'default', uptimeBefore: uptime() };
    console.log(JSON.stringify(machine));
    const workloads = MODBUS ? [modbusWorkload(MODBUS[0], MODBUS[1], LINK)] : RATES.flatMap((rate) => SENSORS.map((sensors) => simWorkload(sensors, rate)));
    for (let n = 0; n < REPEAT; n++) {
      for (const w of workloads) {
        const r = await run(broker.url, w, n);
        runs.push(r);
        console.log(JSON.stringify(r));
      }
    }
    console.log(JSON.stringify({ uptimeAfter: uptime() }));
  } finally {
    await broker.kill();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
