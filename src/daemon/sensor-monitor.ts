import type { ControlEvent, EventType } from '../arbiter/event';
import type { SensorRow } from './view';

/**
 * Tells the cloud when a sensor goes wrong and when it is back: `sensor.stale`
 * (no usable sample for its maxAge), `sensor.bad` (its reading is bad quality),
 * `sensor.recovered`. Checked on a tick from the sensor rows the CLI shows.
 *
 * Rate-limited per sensor: at most one event per sensor per `minIntervalMs`
 * (except bad → stale: it stopped altogether); a change inside that window is
 * published when the window ends, if the sensor is still in the new condition (a flapping sensor yields one event a minute, and
 * the last one is the truth). When many sensors change in one tick (a bus went
 * down) one summary event lists them instead of one event each.
 */
export type Condition = 'ok' | 'stale' | 'bad';

/** How the monitor reads a sensor of whatever shape its caller holds. */
export interface SensorView<T> {
  id(s: T): string;
  condition(s: T, now: number): Condition;
  /** The row an event is made from (only for a sensor whose condition is published). */
  row(s: T, now: number): SensorRow;
}

/** The condition a row shows: stale first (it stopped), then bad quality. */
export function sensorCondition(stale: boolean, quality: string | undefined): Condition {
  return stale ? 'stale' : quality === 'bad' ? 'bad' : 'ok';
}

const ROW_VIEW: SensorView<SensorRow> = { id: (r) => r.id, condition: (r) => sensorCondition(r.stale, r.quality), row: (r) => r };

interface Tracked {
  /** The condition last published (ok until something is). */
  published: Condition;
  /** Times of the recent events (at most `burst`). */
  recent: number[];
}

export interface SensorMonitorOptions {
  publishEvent: (e: ControlEvent) => void;
  /** Window of the per-sensor rate limit (default 60 s) and events allowed in it (default 4). */
  windowMs?: number;
  burst?: number;
  /** More changes than this in one tick become one summary event per condition. */
  summaryAbove?: number;
}

const EVENT: Record<Condition, { type: EventType; severity: ControlEvent['severity'] }> = {
  stale: { type: 'sensor.stale', severity: 'warning' },
  bad: { type: 'sensor.bad', severity: 'warning' },
  ok: { type: 'sensor.recovered', severity: 'info' },
};

export class SensorMonitor {
  private readonly tracked = new Map<string, Tracked>();
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly summaryAbove: number;

  constructor(private readonly opts: SensorMonitorOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.burst = opts.burst ?? 4;
    this.summaryAbove = opts.summaryAbove ?? 20;
  }

  /**
   * Compare each sensor's condition with what was last published; publish the changes
   * that are due. `view` reads the condition straight off whatever `sensors` holds
   * (the sensor table's own states), so a tick over 10 000 healthy sensors builds no
   * row and no tracking entry: only a sensor whose condition changed costs more.
   */
  check(now: number, rows: Iterable<SensorRow>): void;
  check<T>(now: number, sensors: Iterable<T>, view: SensorView<T>): void;
  check<T>(now: number, sensors: Iterable<T>, view?: SensorView<T>): void {
    const v = view ?? (ROW_VIEW as unknown as SensorView<T>); // without a view, T is SensorRow (the first overload)
    let due: Map<Condition, SensorRow[]> | undefined;
    for (const s of sensors) {
      const cond = v.condition(s, now);
      const id = v.id(s);
      let t = this.tracked.get(id);
      if (!t) {
        if (cond === 'ok') continue; // never published: "ok" is what everyone already assumes
        this.tracked.set(id, (t = { published: 'ok', recent: [] }));
      }
      if (cond === t.published) continue;
      while (t.recent.length > 0 && t.recent[0] <= now - this.windowMs) t.recent.shift();
      // Rate limit, except that "bad" turning into "stale" (it stopped altogether) is always told.
      const escalates = t.published === 'bad' && cond === 'stale';
      if (t.recent.length >= this.burst && !escalates) continue;
      t.published = cond;
      t.recent.push(now);
      if (t.recent.length > this.burst) t.recent.shift();
      due ??= new Map();
      const list = due.get(cond) ?? [];
      list.push(v.row(s, now));
      due.set(cond, list);
    }
    if (!due) return;
    for (const [cond, list] of due) {
      if (list.length > this.summaryAbove) this.summary(now, cond, list);
      else for (const r of list) this.one(now, cond, r);
    }
  }

  private one(now: number, cond: Condition, r: SensorRow): void {
    const { type, severity } = EVENT[cond];
    const why =
      cond === 'stale'
        ? r.ts === undefined
          ? 'has delivered no reading yet'
          : `has delivered no usable sample for ${Math.round((r.ageMs ?? 0) / 1000)} s`
        : cond === 'bad'
          ? `reads bad quality${r.lastError ? ` (${r.lastError})` : ''}`
          : 'delivers good samples again';
    this.opts.publishEvent({
      ts: now,
      type,
      severity,
      source: r.id,
      message: `sensor ${r.id} ${why}`,
      details: { sensor: r.id, driver: r.driver, lastSeen: r.ts ?? null, value: r.value ?? null, quality: r.quality ?? null },
    });
  }

  private summary(now: number, cond: Condition, list: SensorRow[]): void {
    const { type, severity } = EVENT[cond];
    const ids = list.map((r) => r.id);
    const word = cond === 'ok' ? 'recovered' : cond;
    this.opts.publishEvent({
      ts: now,
      type,
      severity,
      source: 'sensors',
      message: `${list.length} sensors ${word}: ${ids.slice(0, 5).join(', ')}${list.length > 5 ? ', …' : ''}`,
      details: { count: list.length, sensors: ids.slice(0, 200), drivers: [...new Set(list.map((r) => r.driver))] },
    });
  }
}
