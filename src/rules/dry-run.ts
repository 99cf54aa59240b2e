import { Arbiter } from '../arbiter/arbiter';
import type { ControlEvent } from '../arbiter/event';
import { actuatorSchema, type ActuatorConfig } from '../config/actuator';
import type { ActuatorTargetValue } from '../../drivers/driver';
import type { Problem } from '../config/yaml-source';
import { VirtualClock } from '../core/clock';
import { silentLogger } from '../core/logger';
import type { Quality } from '../core/reading';
import { RulesEngine, type SensorLookup } from './engine';
import type { RuleSet } from './load';
import type { TraceEntry } from './rule-runtime';

/**
 * `fieldgate rules test`: replay a recorded trace (CSV `ts,sensor,value[,quality]`)
 * through a rule set in virtual time — the real engine and arbiter with a
 * recording write — and report when each action would fire. No daemon, no
 * hardware. ts is epoch milliseconds or an ISO 8601 time.
 */
export interface TraceRow {
  ts: number;
  sensor: string;
  value: number | string;
  quality: Quality;
}

export interface DryRunLine {
  ts: number;
  /** Rule id, actuator id or "event". */
  who: string;
  what: string;
}

export function parseTraceCsv(file: string, text: string): { ok: true; rows: TraceRow[] } | { ok: false; problems: Problem[] } {
  const rows: TraceRow[] = [];
  const problems: Problem[] = [];
  let seenData = false;
  text.split(/\r?\n/).forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const cells = trimmed.split(',').map((c) => c.trim());
    const first = !seenData;
    seenData = true;
    if (first && cells[0] === 'ts') return; // header: the first line that is not a comment
    const where = { file, line: i + 1, col: 1 };
    if (cells.length < 3 || cells.length > 4) {
      problems.push({ ...where, message: `expected ts,sensor,value[,quality]; got ${cells.length} column(s)` });
      return;
    }
    const ts = /^\d+(\.\d+)?$/.test(cells[0]) ? Number(cells[0]) : Date.parse(cells[0]);
    if (!Number.isFinite(ts)) {
      problems.push({ ...where, message: `bad timestamp "${cells[0]}" (epoch ms or ISO 8601)` });
      return;
    }
    const quality = (cells[3] || 'good') as Quality;
    if (!['good', 'uncertain', 'bad'].includes(quality)) {
      problems.push({ ...where, col: line.lastIndexOf(cells[3]) + 1, message: `quality must be good, uncertain or bad` });
      return;
    }
    const num = Number(cells[2]);
    const value = cells[2] !== '' && Number.isFinite(num) ? num : cells[2];
    if (rows.length > 0 && ts < rows[rows.length - 1].ts) {
      problems.push({ ...where, message: 'timestamps must not go backwards' });
      return;
    }
    rows.push({ ts, sensor: cells[1], value, quality });
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rows };
}

/** Actuator configs for a dry run without a gateway config: inferred from how the rules use them. */
export function inferActuators(set: RuleSet): ActuatorConfig[] {
  const types = new Map<string, 'bool' | 'number'>();
  for (const r of set.rules) {
    for (const a of [...(r.config.then ?? []), ...(r.config.else ?? [])]) {
      if ('set' in a) types.set(a.set.actuator, typeof a.set.value === 'boolean' ? 'bool' : 'number');
    }
    if (r.config.pid) types.set(r.config.pid.output, 'number');
  }
  return [...types].map(([id, type]) => actuatorSchema.parse({ id, type, driver: 'dry-run', target: {} }));
}

export async function dryRun(set: RuleSet, rows: readonly TraceRow[], opts: { actuators: ActuatorConfig[]; sensors?: SensorLookup; targetValue?: ActuatorTargetValue }): Promise<DryRunLine[]> {
  const lines: DryRunLine[] = [];
  const clock = new VirtualClock(rows[0]?.ts ?? 0);
  const publishEvent = (e: ControlEvent) => lines.push({ ts: e.ts, who: e.source, what: `${e.type} [${e.severity}] ${e.message}` });
  const arbiter = new Arbiter({
    actuators: opts.actuators,
    clock,
    log: silentLogger,
    publishEvent,
    write: async (id, _target, value) => {
      lines.push({ ts: clock.now(), who: id, what: `write ${String(value)}` });
    },
    targetValue: opts.targetValue,
    // Why an expected write is late (min on/off and rate limit deferrals), and values rounded for the target.
    trace: (t) => lines.push({ ts: t.ts, who: t.actuator, what: t.detail }),
  });
  const trace = (t: TraceEntry) => {
    if (t.what !== 'event' && t.what !== 'clear') lines.push({ ts: t.ts, who: t.rule, what: t.detail ? `${t.what} ${t.detail}` : t.what });
  };
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent, sensors: opts.sensors, trace });
  engine.load(set);
  arbiter.start();
  engine.start();
  for (const row of rows) {
    await clock.advanceAsync(row.ts - clock.now());
    engine.accept({ sensor: row.sensor, ts: row.ts, value: row.value, quality: row.quality, flags: 0 });
    await clock.advanceAsync(0);
  }
  engine.stop();
  arbiter.stop();
  return lines;
}
