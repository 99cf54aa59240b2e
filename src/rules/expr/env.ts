/**
 * The preallocated environment compiled expressions read from: one slot per
 * sensor referenced anywhere in the rule set. The engine writes a reading into
 * its slot, sets `now`, then calls the compiled closures — no lookups by name
 * and no allocation on that path.
 */
export const Quality = { GOOD: 0, UNCERTAIN: 1, BAD: 2, NONE: 3 } as const;

export class SensorEnv {
  /** Evaluation time (epoch ms); set by the engine before evaluating. */
  now = 0;
  readonly ids: string[] = [];
  /** Latest value; NaN until the first reading. */
  readonly values: (number | string)[] = [];
  /** Timestamp of the latest reading; the load time until the first one (so age counts from load). */
  readonly ts: number[] = [];
  /**
   * When the sensor last delivered a usable sample (also one its pipeline held
   * back as "no change"); the load time until the first one. Staleness counts
   * from here.
   */
  readonly fresh: number[] = [];
  /** Quality code (see Quality); NONE until the first reading. */
  readonly quality: number[] = [];
  /** Age in ms beyond which the sensor is stale. */
  readonly maxAge: number[] = [];
  private readonly slots = new Map<string, number>();

  /** Slot of a sensor, allocated on first use (compile time only). */
  slot(id: string): number {
    let s = this.slots.get(id);
    if (s === undefined) {
      s = this.ids.length;
      this.slots.set(id, s);
      this.ids.push(id);
      this.values.push(NaN);
      this.ts.push(0);
      this.fresh.push(0);
      this.quality.push(Quality.NONE);
      this.maxAge.push(60_000);
    }
    return s;
  }

  indexOf(id: string): number | undefined {
    return this.slots.get(id);
  }

  get size(): number {
    return this.ids.length;
  }

  isStale(slot: number): boolean {
    return this.quality[slot] === Quality.BAD || this.now - this.fresh[slot] > this.maxAge[slot];
  }
}

export function qualityCode(q: string): number {
  return q === 'good' ? Quality.GOOD : q === 'uncertain' ? Quality.UNCERTAIN : Quality.BAD;
}
