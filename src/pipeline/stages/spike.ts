import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, reject, rejectActionSchema } from '../input';
import { MedianWindow } from '../ring';
import type { Stage, StageKind } from '../stage';

export const spikeSchema = z
  .strictObject({
    kind: z.literal('spike'),
    maxRate: z
      .number()
      .positive()
      .optional()
      .describe('Largest plausible change per second, compared with the last accepted reading; a faster change is a misfire and is rejected.'),
    median: z
      .number()
      .int()
      .min(3)
      .max(99)
      .optional()
      .describe('Replace each value by the median of the last N accepted values (odd N, 3-99); removes single misfires without a threshold.'),
    maxRejects: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('After this many consecutive rate rejects the next reading is accepted as a new level, so a genuine step is not rejected forever.'),
    action: rejectActionSchema('a rejected reading'),
  })
  .superRefine((c, ctx) => {
    if (c.maxRate === undefined && c.median === undefined) ctx.addIssue({ code: 'custom', message: 'spike needs maxRate, median or both' });
    if (c.median !== undefined && c.median % 2 === 0) ctx.addIssue({ code: 'custom', message: `median must be odd (got ${c.median})`, path: ['median'] });
  })
  .describe('Reject misfires: by rate of change against the last accepted reading and/or by a running median.');

export type SpikeConfig = z.infer<typeof spikeSchema>;

class Spike implements Stage {
  private readonly window: MedianWindow | undefined;
  private hasLast = false;
  private lastTs = 0;
  private lastValue = 0;
  private rejects = 0;

  constructor(private readonly c: SpikeConfig) {
    this.window = c.median === undefined ? undefined : new MedianWindow(c.median);
  }

  process(r: Reading): Reading | null {
    const kind = classify(r);
    if (kind === 'pass') return r;
    if (kind === 'invalid') return reject(r, this.c.action);
    const v = r.value as number;
    if (this.c.maxRate !== undefined && this.hasLast) {
      // Compare |Δv| with maxRate·Δt rather than dividing, so Δt = 0 needs no special case.
      const allowed = (this.c.maxRate * Math.max(0, r.ts - this.lastTs)) / 1000;
      if (Math.abs(v - this.lastValue) > allowed) {
        if (this.rejects < this.c.maxRejects) {
          this.rejects++;
          return reject(r, this.c.action);
        }
        // A new level: the median of the old one would only delay it.
        this.window?.clear();
      }
    }
    this.rejects = 0;
    this.hasLast = true;
    this.lastTs = r.ts;
    this.lastValue = v;
    if (this.window) {
      this.window.push(v);
      r.value = this.window.median();
    }
    return r;
  }
}

export const spike: StageKind<SpikeConfig> = {
  kind: 'spike',
  schema: spikeSchema,
  suppresses: true,
  create: (c) => new Spike(c),
};
