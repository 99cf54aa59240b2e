import type { ActuatorStatus } from '../arbiter/arbiter';

/**
 * The retained `<prefix>/<gw>/state/<actuator>` documents: what each actuator
 * is (the value its driver last acknowledged), what the arbiter wants, who holds
 * it (a rule, a safety rule, a command, a local hold, a failsafe, or nobody),
 * since when, and how the last write went. Published when any of that changes
 * and again after every connect (the broker may have lost retained messages).
 */
export interface ActuatorStateDoc {
  actuator: string;
  /** Last value the driver acknowledged; null before the first write. */
  value: boolean | number | null;
  /** What the arbiter is trying to write, when it differs (deferred or failing). */
  wanted?: boolean | number;
  source: { kind: 'rule' | 'safety' | 'command' | 'local' | 'failsafe' | 'none'; id?: string };
  /** When value (or who holds it) last changed. */
  since: number;
  lastWrite?: { ts?: number; ok: boolean; error?: string };
  writes: number;
  errors: number;
}

export class ActuatorStates {
  private readonly last = new Map<string, { key: string; since: number }>();

  constructor(private readonly publish: (actuator: string, doc: ActuatorStateDoc) => void) {}

  /** Publish the actuators whose state changed (all of them with `all`). */
  check(now: number, statuses: readonly ActuatorStatus[], all = false): void {
    for (const a of statuses) {
      const source = sourceOf(a);
      const lastWrite = a.writes + a.errors === 0 ? undefined : { ts: a.lastWrite, ok: !a.failing, ...(a.failing ? { error: a.lastError } : {}) };
      const wanted = a.wanted !== undefined && a.wanted !== a.value ? a.wanted : undefined;
      // What makes a new document: value, wanted, holder and the write outcome (not the counters).
      const key = JSON.stringify([a.value ?? null, wanted, source, lastWrite?.ok ?? null, lastWrite?.error ?? null]);
      const prev = this.last.get(a.id);
      if (prev?.key === key && !all) continue;
      const since = prev && prev.key === key ? prev.since : now;
      this.last.set(a.id, { key, since });
      this.publish(a.id, { actuator: a.id, value: a.value ?? null, ...(wanted !== undefined ? { wanted } : {}), source, since, ...(lastWrite ? { lastWrite } : {}), writes: a.writes, errors: a.errors });
    }
  }
}

function sourceOf(a: ActuatorStatus): ActuatorStateDoc['source'] {
  if (!a.priority || !a.owner) return { kind: 'none' };
  if (a.priority === 'rule' || a.priority === 'safety' || a.priority === 'failsafe') return { kind: a.priority, id: a.owner };
  // Command holds are labelled "cmd:<id>" (cloud) or "local:<id>" (fieldgate actuate).
  const m = /^(cmd|local):(.*)$/.exec(a.owner);
  if (m) return { kind: m[1] === 'cmd' ? 'command' : 'local', id: m[2] };
  return { kind: 'command', id: a.owner };
}
