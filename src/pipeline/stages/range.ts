import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, reject, rejectActionSchema, type RejectAction } from '../input';
import type { Stage, StageKind } from '../stage';

export const rangeSchema = z
  .strictObject({
    kind: z.literal('range'),
    min: z.number().optional().describe('Lowest plausible value (inclusive). Omit for no lower limit.'),
    max: z.number().optional().describe('Highest plausible value (inclusive). Omit for no upper limit.'),
    action: rejectActionSchema('a value outside [min, max], NaN or ±Infinity'),
  })
  .superRefine((c, ctx) => {
    if (c.min === undefined && c.max === undefined) ctx.addIssue({ code: 'custom', message: 'range needs min, max or both' });
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
      ctx.addIssue({ code: 'custom', message: `min (${c.min}) is greater than max (${c.max})`, path: ['min'] });
    }
  })
  .describe('Reject physically impossible values: outside [min, max] the reading is dropped or marked bad.');

export type RangeConfig = z.infer<typeof rangeSchema>;

class Range implements Stage {
  private readonly min: number;
  private readonly max: number;
  constructor(
    min: number | undefined,
    max: number | undefined,
    private readonly action: RejectAction,
  ) {
    this.min = min ?? -Infinity;
    this.max = max ?? Infinity;
  }
  process(r: Reading): Reading | null {
    const c = classify(r);
    if (c === 'pass') return r;
    if (c === 'invalid') return reject(r, this.action);
    const v = r.value as number;
    return v < this.min || v > this.max ? reject(r, this.action) : r;
  }
}

export const range: StageKind<RangeConfig> = {
  kind: 'range',
  schema: rangeSchema,
  create: (c) => new Range(c.min, c.max, c.action),
};
