import { z } from 'zod';
import { duration } from '../../core/duration';
import { isFiniteNumber, type Reading } from '../../core/reading';
import { classify, markBad, setValue } from '../input';
import type { Stage, StageContext, StageKind } from '../stage';

export const compensateSchema = z
  .strictObject({
    kind: z.literal('compensate'),
    sensor: z.string().min(1).describe('Id of the temperature sensor whose latest processed reading is used.'),
    coefficient: z.number().describe('k: change of the measured value per degree away from the reference.'),
    reference: z.number().describe('Tref: temperature at which the sensor needs no correction.'),
    mode: z
      .enum(['additive', 'multiplicative'])
      .default('additive')
      .describe("additive: v' = v - k·(T - Tref); multiplicative: v' = v / (1 + k·(T - Tref))."),
    maxAge: duration('A temperature reading older than this (by reading timestamps) is unusable: the output is marked bad.').default(60_000),
  })
  .describe('Temperature compensation using the latest reading of another sensor; marks the output bad when that temperature is missing, bad or stale.');

export type CompensateConfig = z.infer<typeof compensateSchema>;

class Compensate implements Stage {
  constructor(
    private readonly c: CompensateConfig,
    private readonly ctx: StageContext,
  ) {}
  process(r: Reading): Reading {
    const kind = classify(r);
    if (kind === 'pass') return r;
    if (kind === 'invalid') return markBad(r);
    const t = this.ctx.latest(this.c.sensor);
    if (!t || t.quality === 'bad' || !isFiniteNumber(t.value) || r.ts - t.ts > this.c.maxAge) return markBad(r);
    const dT = t.value - this.c.reference;
    const v = r.value as number;
    let y: number;
    if (this.c.mode === 'additive') y = v - this.c.coefficient * dT;
    else {
      const divisor = 1 + this.c.coefficient * dT;
      // A divisor at or below zero means the coefficient does not hold at this temperature.
      if (divisor <= 0) return markBad(r);
      y = v / divisor;
    }
    setValue(r, y);
    if (t.quality === 'uncertain' && r.quality === 'good') r.quality = 'uncertain';
    return r;
  }
}

export const compensate: StageKind<CompensateConfig> = {
  kind: 'compensate',
  schema: compensateSchema,
  create: (c, ctx) => new Compensate(c, ctx),
  references: (c) => [c.sensor],
};
