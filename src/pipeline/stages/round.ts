import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, markBad } from '../input';
import type { Stage, StageKind } from '../stage';

export const roundSchema = z
  .strictObject({
    kind: z.literal('round'),
    decimals: z.number().int().min(0).max(12).default(2).describe('Decimal places to keep (half away from zero).'),
  })
  .describe('Round the value to a number of decimals.');

export type RoundConfig = z.infer<typeof roundSchema>;

class Round implements Stage {
  private readonly factor: number;
  constructor(decimals: number) {
    this.factor = 10 ** decimals;
  }
  process(r: Reading): Reading {
    const c = classify(r);
    if (c === 'pass') return r;
    if (c === 'invalid') return markBad(r);
    const v = r.value as number;
    // Math.round rounds half towards +infinity; round half away from zero instead,
    // and correct binary representation error (1.005 * 100 = 100.49999...).
    const scaled = Math.abs(v) * this.factor;
    const rounded = Math.round(scaled + Number.EPSILON * scaled) / this.factor;
    r.value = v < 0 ? -rounded : rounded;
    return r;
  }
}

export const round: StageKind<RoundConfig> = {
  kind: 'round',
  schema: roundSchema,
  create: (c) => new Round(c.decimals),
};
