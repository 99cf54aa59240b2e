/**
 * A hostile cloud against a real daemon process: one outside MQTT 5 client
 * publishes a flood of commands of every kind through a real Mosquitto while a
 * sim sensor reports every 50 ms. Used by `npm run bench -- commands` and by
 * test/acceptance/command-flood.test.ts (which asserts on what this returns).
 *
 * Event-loop lag is measured twice: from outside, as how late the daemon's 50 ms
 * sensor timer fired (gaps between consecutive reading timestamps, minus 50 ms),
 * and inside, by the daemon's own timer lateness (LoopLag; fieldgate status).
 */
import * as fs from 'node:fs';
import { connect } from 'mqtt';
import { controlRequest } from '../src/control/client';
import { prng } from '../src/core/prng';
import { decodeBatch } from '../src/uplink/batch-format';
import { startMosquitto } from '../test/helpers/mosquitto';
import { startDaemon } from '../test/helpers/daemon';
import { waitFor } from '../test/helpers/wait';

export interface FloodOptions {
  /** How many commands of each junk kind (see KINDS); default FLOOD_MIX. */
  counts?: Partial<Record<keyof typeof KINDS, number>>;
  /** Commands with fresh valid ids to the real actuator, spread through the flood. */
  real: number;
}

interface Result {
  id: string;
  ok?: boolean;
  status: string;
  final: boolean;
  duplicate?: boolean;
  error?: string;
}

export interface FloodReport {
  sent: number;
  sendMs: number;
  byKind: Record<string, number>;
  /** Outside: lateness of the 50 ms sensor timer while the flood was processed. */
  readingLag: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  /** Inside: the daemon's own event-loop delay since start. */
  eventLoop: { meanMs: number; p99Ms: number; maxMs: number };
  rssKb: { before: number; after: number };
  /** CPU time the daemon process used from the start of the flood until every real command was answered (load-independent). */
  daemonCpuMs: number;
  /** Final results per real id (each must be 1), and how many were applied. */
  realFinals: number[];
  realApplied: number;
  /** Redeliveries of real ids after the flood: answered duplicate, pump written no more. */
  redelivered: { answeredDuplicate: number; writesBefore: number; writesAfter: number };
  /** Most results any junk id got (must be ≤ 1; rejections before the id was read carry id ""). */
  maxResultsPerJunkId: number;
  commands: Record<string, number>;
  commandLogBytes: number;
}

const CONFIG = (broker: string) => `gateway: { id: gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
commands: { maxPerMinute: 100000 }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: tick, waveform: counter, interval: 50ms } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true, initial: true }
  - { id: door, driver: sim, target: { output: door }, type: bool, cloud: false }
`;

const BIG_NAME = 'x'.repeat(60_000);
/** Each kind: topic level and payload for the i-th command of the kind. */
const KINDS: Record<string, (i: number) => [string, string]> = {
  unknownActuator: (i) => [`nosuch${i}`, JSON.stringify({ id: `u${i}`, value: true })],
  notCloud: (i) => ['door', JSON.stringify({ id: `d${i}`, value: true })],
  malformed: (i) => ['pump', `{"id":"m${i}","value":`],
  deep: (i) => ['pump', `{"id":"n${i}","value":${'['.repeat(8000)}${']'.repeat(8000)}}`],
  oversize: (i) => ['pump', JSON.stringify({ id: `o${i}`, value: true, pad: 'p'.repeat(17_000) })],
  hugeName: (i) => [BIG_NAME, JSON.stringify({ id: `h${i}`, value: true })],
  junkIdsToPump: (i) => ['pump', JSON.stringify({ id: `j${i}`, value: true })],
};
/** 19 800 commands of every kind: the cases of issue 11 (12 000 to unknown actuators, 5 000 to a cloud: false one, 173 huge names, 1 000 junk ids) and more. */
export const FLOOD_MIX: Record<keyof typeof KINDS, number> = { unknownActuator: 12_000, notCloud: 5000, hugeName: 173, junkIdsToPump: 1000, malformed: 1427, deep: 100, oversize: 100 };

export async function commandFlood(opts: FloodOptions): Promise<FloodReport> {
  const broker = await startMosquitto();
  const d = startDaemon({ config: CONFIG(broker.url) });
  const cloud = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    const results = new Map<string, Result[]>();
    const readings: number[] = [];
    cloud.on('message', (topic, payload) => {
      if (topic.endsWith('/data')) {
        for (const [, ts] of decodeBatch(payload).r) readings.push(ts);
        return;
      }
      const r = JSON.parse(payload.toString()) as Result;
      const list = results.get(r.id) ?? [];
      list.push(r);
      results.set(r.id, list);
    });
    await new Promise<void>((resolve) => cloud.once('connect', () => resolve()));
    await cloud.subscribeAsync(['fieldgate/gw/cmd/+/result', 'fieldgate/gw/data'], { qos: 1 });
    type Status = { uplink?: { state: string; commands?: number }; commands: Record<string, number>; eventLoop: FloodReport['eventLoop']; actuators: { id: string; writes: number }[] };
    const status = async () => (await controlRequest(d.socketPath, 'status')) as Status;
    await waitFor(async () => (await status().catch(() => undefined))?.uplink?.state === 'online', { timeoutMs: 20_000, what: 'the daemon online' });
    await waitFor(() => readings.length >= 10, { timeoutMs: 10_000, what: 'readings before the flood' });
    const rssBefore = rssKb(d.proc.pid);
    const pumpWrites = async () => (await status()).actuators.find((a) => a.id === 'pump')?.writes ?? 0;

    // The flood: kinds interleaved, real commands spread evenly through it.
    const byKind: Record<string, number> = {};
    const plan: [string, string, string | undefined][] = [];
    for (const [kind, n] of Object.entries({ ...FLOOD_MIX, ...opts.counts }) as [keyof typeof KINDS, number][]) {
      byKind[kind] = n;
      for (let i = 0; i < n; i++) plan.push([...KINDS[kind](i), undefined]);
    }
    shuffle(plan);
    const every = Math.max(1, Math.floor(plan.length / opts.real));
    for (let i = 0; i < opts.real; i++) plan.splice(i * (every + 1), 0, ['pump', JSON.stringify({ id: `real${i}`, value: true }), `real${i}`]);
    byKind.real = opts.real;
    const cpuBefore = cpuMs(d.proc.pid);
    const floodStart = Date.now();
    // Mosquitto queues at most 1 000 QoS 1 messages for a subscriber (max_queued_messages) and
    // drops the rest: keep at most 1 000 commands between the broker and the daemon.
    const received = async () => Number((await status()).uplink?.commands ?? 0);
    const base = await received();
    for (let i = 0; i < plan.length; i += 500) {
      if (i >= 1000) await waitFor(async () => (await received()) - base >= i - 500, { timeoutMs: 30_000, intervalMs: 25, what: `the daemon to take command ${i - 500}` });
      await Promise.all(plan.slice(i, i + 500).map(([level, payload]) => cloud.publishAsync(`fieldgate/gw/cmd/${level}`, payload, { qos: 1 })));
    }
    const sendMs = Date.now() - floodStart;
    const realIds = Array.from({ length: opts.real }, (_, i) => `real${i}`);
    const missing = () => realIds.filter((id) => !results.get(id)?.some((r) => r.final));
    await waitFor(() => missing().length === 0, { timeoutMs: 60_000, what: 'a final result for every real command' }).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${missing().length} of ${opts.real} missing (${missing().slice(0, 5).join(', ')}…); daemon counted ${JSON.stringify((await status()).commands)}`);
    });
    const cpuAfter = cpuMs(d.proc.pid);
    // Readings from the flood until 1 s after the last real result.
    const settledAt = Date.now();
    await waitFor(() => readings.at(-1)! > settledAt + 1000, { timeoutMs: 30_000, what: 'readings after the flood' });
    const gaps = readings
      .filter((ts) => ts >= floodStart - 100)
      .map((ts, i, a) => (i === 0 ? undefined : ts - a[i - 1] - 50))
      .filter((g): g is number => g !== undefined)
      .sort((a, b) => a - b);
    const writesBefore = await pumpWrites();
    for (const id of realIds.slice(0, 10)) await cloud.publishAsync('fieldgate/gw/cmd/pump', JSON.stringify({ id, value: true }), { qos: 1 });
    await waitFor(() => realIds.slice(0, 10).every((id) => results.get(id)?.some((r) => r.duplicate)), { timeoutMs: 20_000, what: 'duplicate answers to the redeliveries' });
    const s = await status();
    // Commands refused before their id was read are answered with id "" (many share it).
    const junkCounts = [...results.entries()].filter(([id]) => id !== '' && !id.startsWith('real')).map(([, l]) => l.length);
    const logFile = `${d.stateDir}/commands.db`;
    return {
      sent: plan.length,
      sendMs,
      byKind,
      readingLag: { samples: gaps.length, p50Ms: pct(gaps, 50), p99Ms: pct(gaps, 99), maxMs: gaps.at(-1) ?? 0 },
      eventLoop: s.eventLoop,
      rssKb: { before: rssBefore, after: rssKb(d.proc.pid) },
      daemonCpuMs: cpuAfter - cpuBefore,
      realFinals: realIds.map((id) => (results.get(id) ?? []).filter((r) => r.final && !r.duplicate).length),
      realApplied: realIds.filter((id) => results.get(id)?.some((r) => r.status === 'applied' && !r.duplicate)).length,
      redelivered: { answeredDuplicate: realIds.slice(0, 10).filter((id) => results.get(id)?.some((r) => r.duplicate)).length, writesBefore, writesAfter: await pumpWrites() },
      maxResultsPerJunkId: Math.max(0, ...junkCounts),
      commands: s.commands,
      commandLogBytes: ['', '-wal'].reduce((n, ext) => n + (fs.existsSync(logFile + ext) ? fs.statSync(logFile + ext).size : 0), 0),
    };
  } finally {
    await cloud.endAsync(true).catch(() => undefined);
    await d.kill();
    await broker.kill();
  }
}

function rssKb(pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** User + system CPU time of a process, ms (/proc/PID/stat fields 14 and 15, in 1/100 s clock ticks). */
function cpuMs(pid: number | undefined): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Deterministic shuffle, so runs are comparable. */
function shuffle<T>(xs: T[]): void {
  const rnd = prng(20260101);
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}
