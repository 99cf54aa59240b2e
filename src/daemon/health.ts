import type { ActuatorStatus } from '../arbiter/arbiter';
import type { RuleWatcherStatus } from '../rules/watcher';
import type { BufferStats, DriverRow, SensorRow } from './view';

/**
 * The gateway's health as levels, from what the parts report — never from what
 * was asked of them:
 *
 *   ok        nothing is wrong
 *   degraded  it works with something missing: a driver or its link down, a
 *             device failing, a sensor stale or bad, a failsafe applied, the
 *             uplink not delivering, the outbox evicting, rules rejected or
 *             running last-known-good
 *   failed    a control function is lost: no rules can run, or an actuator
 *             write keeps failing
 *
 * Each problem carries its own level; the gateway's is the worst of them.
 */
export type HealthLevel = 'ok' | 'degraded' | 'failed';

export interface HealthIssue {
  level: Exclude<HealthLevel, 'ok'>;
  /** What it is about: `driver:rs485`, `device:rs485/meter-3`, `sensor:tank.level`, `uplink`, `outbox`, `rules`, `actuator:furnace`, `failsafe:<rule>`. */
  component: string;
  message: string;
}

export interface HealthInputs {
  drivers: readonly DriverRow[];
  sensors: readonly SensorRow[];
  /** Rules whose failsafe is applied (inputs stale or bad). */
  failsafeRules: readonly string[];
  rules?: RuleWatcherStatus;
  actuators: readonly ActuatorStatus[];
  uplink?: { state: string; lastError?: string; [k: string]: unknown };
  outbox: BufferStats;
  /** Outbox rows evicted within the recent window (see EvictionWatch). */
  recentlyEvicted: number;
  /** Actuators without a failsafe value (listed when no rules run). */
  withoutFailsafe: readonly string[];
  /** What the uplink and the outbox say is wrong (delivery unproven or refused, credentials, disk). */
  uplinkProblems?: readonly string[];
  outboxProblems?: readonly string[];
}

/** Problems listed one by one up to this many per kind; the rest are counted. */
const LIST_AT_MOST = 10;

export function assessHealth(h: HealthInputs): { level: HealthLevel; issues: HealthIssue[] } {
  const issues: HealthIssue[] = [];
  const add = (level: HealthIssue['level'], component: string, message: string) => issues.push({ level, component, message });

  let driversDown = 0;
  for (const d of h.drivers) {
    if (d.state === 'backoff') add('degraded', `driver:${d.id}`, `driver ${d.id} is restarting: ${d.lastError ?? 'start failed'}`);
    if (d.state === 'unavailable') add('degraded', `driver:${d.id}`, `driver ${d.id} unavailable: ${d.lastError ?? 'hardware not found'}${d.fix ? ` (fix: ${d.fix})` : ''}`);
    if (d.state === 'backoff' || d.state === 'unavailable') driversDown++;
    const detail = d.detail ?? {};
    const link = typeof detail.link === 'string' ? detail.link : undefined;
    if (d.state === 'running' && link !== undefined && link !== 'open') {
      driversDown++;
      add('degraded', `driver:${d.id}`, `driver ${d.id}: link ${link}${typeof detail.lastOpenError === 'string' ? ` (${detail.lastOpenError})` : ''}`);
    }
    const devices = detail.devices;
    if (devices && typeof devices === 'object') {
      for (const [name, dev] of Object.entries(devices as Record<string, { status?: string; lastError?: string }>)) {
        if (dev?.status === 'degraded' || dev?.status === 'failing') {
          add('degraded', `device:${d.id}/${name}`, `device ${name} on ${d.id} is ${dev.status}${dev.lastError ? `: ${dev.lastError}` : ''}`);
        }
      }
    }
  }
  if (h.drivers.length > 1 && driversDown === h.drivers.length) add('degraded', 'drivers', 'every driver is down: no readings, no writes');

  listed(
    h.sensors.filter((s) => s.stale),
    (s) => add('degraded', `sensor:${s.id}`, `sensor ${s.id} is stale: ${s.ts === undefined ? 'no reading yet' : `no usable sample for ${Math.round((s.ageMs ?? 0) / 1000)} s`}`),
    (rest) => add('degraded', 'sensors', `${rest} more sensor(s) stale`),
  );
  listed(
    h.sensors.filter((s) => !s.stale && s.quality === 'bad'),
    (s) => add('degraded', `sensor:${s.id}`, `sensor ${s.id} is bad${s.lastError ? `: ${s.lastError}` : ''}`),
    (rest) => add('degraded', 'sensors', `${rest} more sensor(s) bad`),
  );
  for (const r of h.failsafeRules) add('degraded', `failsafe:${r}`, `failsafe applied by rule ${r} (inputs stale or bad)`);

  if (h.uplink && h.uplink.state !== 'online' && h.uplink.state !== 'disabled') {
    add('degraded', 'uplink', `uplink is ${h.uplink.state}${h.uplink.lastError ? `: ${h.uplink.lastError}` : ''}`);
  }
  for (const p of h.uplinkProblems ?? []) add('degraded', 'uplink', p);
  for (const p of h.outboxProblems ?? []) add('degraded', 'outbox', p);
  if (h.recentlyEvicted > 0) add('degraded', 'outbox', `outbox evicting: ${h.recentlyEvicted} row(s) dropped in the last 5 minutes to stay within its bound`);

  const rules = h.rules;
  if (rules?.lastReloadError) add('degraded', 'rules', `rules rejected: ${rules.lastReloadError}`);
  if (rules?.running === 'last-known-good') {
    add('degraded', 'rules', `rules: running the last-known-good set accepted at ${new Date(rules.acceptedAt ?? 0).toISOString()}, not the rules directory`);
  } else if (rules?.running === 'none') {
    const without = h.withoutFailsafe.length ? ` (no failsafe value, left as they are: ${h.withoutFailsafe.join(', ')})` : '';
    add('failed', 'rules', `rules: none running; every actuator is held at its failsafe value${without}`);
  }
  for (const a of h.actuators) if (a.failing) add('failed', `actuator:${a.id}`, `actuator ${a.id} write failing: ${a.lastError ?? 'error'}`);

  const level: HealthLevel = issues.some((i) => i.level === 'failed') ? 'failed' : issues.length > 0 ? 'degraded' : 'ok';
  return { level, issues };
}

function listed<T>(items: T[], each: (t: T) => void, rest: (n: number) => void): void {
  items.slice(0, LIST_AT_MOST).forEach(each);
  if (items.length > LIST_AT_MOST) rest(items.length - LIST_AT_MOST);
}

/** Remembers when the outbox last evicted, so health says "evicting" for a while after it happened. */
export class EvictionWatch {
  private readonly marks: { ts: number; evicted: number }[] = [];

  constructor(private readonly windowMs = 5 * 60_000) {}

  /** Rows evicted within the window, given the persistent counter now. */
  recent(now: number, evicted: number): number {
    const last = this.marks.at(-1);
    if (!last || last.evicted !== evicted) this.marks.push({ ts: now, evicted });
    while (this.marks.length > 1 && this.marks[1].ts <= now - this.windowMs) this.marks.shift();
    return evicted - this.marks[0].evicted;
  }
}
