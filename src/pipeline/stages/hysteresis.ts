import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, markBad } from '../input';
import type { Stage, StageKind } from '../stage';

export const hysteresisSchema = z
  .strictObject({
    kind: z.literal('hysteresis'),
    band: z.number().nonnegative().describe('The output moves to the new value only when it differs from the last output by more than this.'),
  })
  .describe('Hold the output steady against small wobble: within ±band of the last output the value is replaced by the last output.');

export type HysteresisConfig = z.infer<typeof hysteresisSchema>;

class Hysteresis implements Stage {
  private hasOutput = false;
  private output = 0;
  constructor(private readonly band: number) {}
  process(r: Reading): Reading {
    const c = classify(r);
    if (c === 'pass') return r;
    if (c === 'invalid') return markBad(r);
    const v = r.value as number;
    if (!this.hasOutput || Math.abs(v - this.output) > this.band) {
      this.hasOutput = true;
      this.output = v;
    } else r.value = this.output;
    return r;
  }
}

export const hysteresis: StageKind<HysteresisConfig> = {
  kind: 'hysteresis',
  schema: hysteresisSchema,
  suppresses: true,
  create: (c) => new Hysteresis(c.band),
};
