import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, markBad, setValue } from '../input';
import type { Stage, StageKind } from '../stage';

export const scaleSchema = z
  .strictObject({
    kind: z.literal('scale'),
    rawMin: z.number().describe('Raw value (counts, mA, V) that corresponds to min.'),
    rawMax: z.number().describe('Raw value that corresponds to max.'),
    min: z.number().describe('Engineering value at rawMin.'),
    max: z.number().describe('Engineering value at rawMax.'),
    clamp: z.boolean().default(false).describe('Limit the result to [min, max]; false keeps out-of-span values visible (pair with range to reject them).'),
  })
  .superRefine((c, ctx) => {
    if (c.rawMin === c.rawMax) ctx.addIssue({ code: 'custom', message: `rawMin and rawMax must differ (both ${c.rawMin})`, path: ['rawMax'] });
  })
  .describe('Map a raw span linearly onto an engineering span: y = min + (x - rawMin)·(max - min)/(rawMax - rawMin).');

export type ScaleConfig = z.infer<typeof scaleSchema>;

class Scale implements Stage {
  private readonly gain: number;
  private readonly lo: number;
  private readonly hi: number;
  constructor(private readonly c: ScaleConfig) {
    this.gain = (c.max - c.min) / (c.rawMax - c.rawMin);
    this.lo = c.clamp ? Math.min(c.min, c.max) : -Infinity;
    this.hi = c.clamp ? Math.max(c.min, c.max) : Infinity;
  }
  process(r: Reading): Reading {
    const kind = classify(r);
    if (kind === 'pass') return r;
    if (kind === 'invalid') return markBad(r);
    const y = this.c.min + ((r.value as number) - this.c.rawMin) * this.gain;
    return setValue(r, Math.min(this.hi, Math.max(this.lo, y)));
  }
}

export const scale: StageKind<ScaleConfig> = {
  kind: 'scale',
  schema: scaleSchema,
  create: (c) => new Scale(c),
};
