import { z } from 'zod';
import { duration } from '../../core/duration';
import type { Quality, Reading } from '../../core/reading';
import { classify, markBad } from '../input';
import type { Stage, StageKind } from '../stage';

export const deadbandSchema = z
  .strictObject({
    kind: z.literal('deadband'),
    threshold: z.number().nonnegative().optional().describe('Emit when |value - last emitted| > threshold (absolute, in the unit at this stage).'),
    percent: z.number().nonnegative().optional().describe('Emit when |value - last emitted| > percent % of |last emitted|.'),
    maxInterval: duration('Emit a reading that arrives this long (by reading timestamps) after the last emission even without change. Omit for no heartbeat.').optional(),
  })
  .describe(
    'Report by exception: drop readings that changed too little. With neither threshold nor percent, any change is reported. A quality change is always reported.',
  );

export type DeadbandConfig = z.infer<typeof deadbandSchema>;

class Deadband implements Stage {
  private hasValue = false;
  private lastValue = 0;
  private lastTs = 0;
  private lastQuality: Quality = 'good';
  private readonly threshold: number;
  private readonly fraction: number;

  constructor(private readonly c: DeadbandConfig) {
    const anyChange = c.threshold === undefined && c.percent === undefined;
    this.threshold = anyChange ? 0 : (c.threshold ?? Infinity);
    this.fraction = c.percent === undefined ? Infinity : c.percent / 100;
  }

  process(r: Reading): Reading | null {
    const kind = classify(r);
    if (kind !== 'number') {
      // Passed on untouched (NaN/±Infinity marked bad); it is an emission, so it
      // counts for quality changes and maxInterval, but its value is not remembered.
      if (kind === 'invalid') markBad(r);
      this.lastTs = r.ts;
      this.lastQuality = r.quality;
      return r;
    }
    const v = r.value as number;
    if (this.hasValue && r.quality === this.lastQuality && !this.overdue(r.ts)) {
      const d = Math.abs(v - this.lastValue);
      if (!(d > this.threshold || d > this.fraction * Math.abs(this.lastValue))) return null;
    }
    this.hasValue = true;
    this.lastValue = v;
    this.lastTs = r.ts;
    this.lastQuality = r.quality;
    return r;
  }

  private overdue(ts: number): boolean {
    return this.c.maxInterval !== undefined && ts - this.lastTs >= this.c.maxInterval;
  }
}

export const deadband: StageKind<DeadbandConfig> = {
  kind: 'deadband',
  schema: deadbandSchema,
  suppresses: true,
  create: (c) => new Deadband(c),
};
