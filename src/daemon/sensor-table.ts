import type { Quality, Reading, ReadingValue } from '../core/reading';
import type { SensorDecl } from '../config/sensor';
import type { Sink } from './hub';

/** What the gateway knows about one sensor right now. */
export interface SensorState {
  id: string;
  driver: string;
  unit?: string;
  /** Latest cleaned reading (undefined until the first one). */
  last?: Reading;
  /** Latest raw sample as the driver delivered it. */
  rawValue?: ReadingValue;
  rawTs?: number;
  rawQuality?: Quality;
  /**
   * When the driver last delivered a usable sample (not bad; passed or held back
   * by a suppressing stage). Staleness counts from here, not from the last
   * reading that left the pipeline: report-by-exception is not silence.
   */
  inputTs?: number;
  /** Stale when no usable sample for this long. */
  maxAgeMs: number;
  samples: number;
  dropped: number;
  errors: number;
  lastError?: string;
}

const DEFAULT_MAX_AGE_MS = 60_000;

/**
 * Latest value, counts and errors of every sensor: the sink behind `fieldgate
 * sensors`, the heartbeat's per-sensor section, staleness tests in rules and the
 * `compensate` stage's view of other sensors.
 */
export class SensorTable implements Sink {
  private readonly states = new Map<string, SensorState>();

  /**
   * `bornAt`: when the gateway started; a sensor that has delivered nothing yet
   * is stale only once its maxAge has passed since then (omitted: at once).
   */
  constructor(
    sensors: readonly SensorDecl[],
    private readonly bornAt?: number,
  ) {
    for (const s of sensors) {
      const maxAgeMs = s.maxAge ?? (s.intervalMs ? Math.max(3 * s.intervalMs, 1000) : DEFAULT_MAX_AGE_MS);
      this.states.set(s.id, { id: s.id, driver: s.driver, unit: s.unit, maxAgeMs, samples: 0, dropped: 0, errors: 0 });
    }
  }

  accept(r: Reading): void {
    const s = this.states.get(r.sensor);
    if (!s) return;
    // Copy: the hub's reading object may be reused.
    if (s.last) {
      s.last.ts = r.ts;
      s.last.value = r.value;
      s.last.quality = r.quality;
      s.last.flags = r.flags;
    } else s.last = { ...r };
    if (r.quality !== 'bad' && (s.inputTs === undefined || r.ts > s.inputTs)) s.inputTs = r.ts;
  }

  sampled(sensor: string, ts: number): void {
    const s = this.states.get(sensor);
    if (s && (s.inputTs === undefined || ts > s.inputTs)) s.inputTs = ts;
  }

  /** Record a raw sample before its pipeline (for diagnostics). */
  raw(sensor: string, value: ReadingValue, ts: number, quality: Quality): SensorState | undefined {
    const s = this.states.get(sensor);
    if (!s) return undefined;
    s.rawValue = value;
    s.rawTs = ts;
    s.rawQuality = quality;
    s.samples++;
    return s;
  }

  noteDropped(sensor: string): void {
    const s = this.states.get(sensor);
    if (s) s.dropped++;
  }

  noteError(sensor: string, message: string): void {
    const s = this.states.get(sensor);
    if (!s) return;
    s.errors++;
    s.lastError = message;
  }

  get(sensor: string): SensorState | undefined {
    return this.states.get(sensor);
  }

  latest(sensor: string): Reading | undefined {
    return this.states.get(sensor)?.last;
  }

  has(sensor: string): boolean {
    return this.states.has(sensor);
  }

  /** No usable sample for maxAge (counted from the start when there has been none yet). */
  isStale(sensor: string, now: number): boolean {
    const s = this.states.get(sensor);
    return s ? this.stateIsStale(s, now) : true;
  }

  /** isStale() of a state this table handed out (no lookup). */
  stateIsStale(s: SensorState, now: number): boolean {
    const since = s.inputTs ?? this.bornAt;
    return since === undefined || now - since > s.maxAgeMs;
  }

  all(): SensorState[] {
    return [...this.values()];
  }

  /** Every state, in configuration order, without copying the list. */
  values(): IterableIterator<SensorState> {
    return this.states.values();
  }
}
