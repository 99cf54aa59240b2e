import { z } from 'zod';
import { duration } from '../../core/duration';
import type { Reading } from '../../core/reading';
import { classify, markBad } from '../input';
import { Ring } from '../ring';
import type { Stage, StageKind } from '../stage';

export const averageSchema = z
  .strictObject({
    kind: z.literal('average'),
    samples: z.number().int().min(1).max(100_000).optional().describe('Average over the last N readings.'),
    window: duration('Average over the readings of the last window of time, (ts - window, ts], by reading timestamps.')
      .refine((ms) => ms > 0, 'window must be longer than 0')
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.samples === undefined && c.window === undefined) ctx.addIssue({ code: 'custom', message: 'average needs samples, window or both' });
  })
  .describe('Moving average; one output per input. With both samples and window, a reading leaves when either limit says so.');

export type AverageConfig = z.infer<typeof averageSchema>;

class Average implements Stage {
  private readonly ring: Ring;
  private sum = 0;
  private removals = 0;

  constructor(private readonly c: AverageConfig) {
    this.ring = c.samples !== undefined ? new Ring(c.samples) : new Ring(16, true);
  }

  process(r: Reading): Reading {
    const kind = classify(r);
    if (kind === 'pass') return r;
    if (kind === 'invalid') return markBad(r);
    const v = r.value as number;
    const ring = this.ring;
    if (this.c.window !== undefined) {
      const oldest = r.ts - this.c.window;
      while (ring.length > 0 && ring.oldestTs() <= oldest) this.removeOldest();
    }
    if (ring.length === this.c.samples) this.removeOldest();
    ring.push(r.ts, v);
    this.sum += v;
    r.value = this.sum / ring.length;
    return r;
  }

  /**
   * Subtracting from a running sum leaves rounding error behind, so once as many
   * readings have left as the buffer holds, the sum is added up afresh: O(1)
   * amortised, and the error never spans more than one buffer's worth of updates.
   */
  private removeOldest(): void {
    this.sum -= this.ring.shift();
    if (++this.removals >= this.ring.length) {
      this.removals = 0;
      this.sum = this.ring.sum();
    }
  }
}

export const average: StageKind<AverageConfig> = {
  kind: 'average',
  schema: averageSchema,
  suppresses: true,
  create: (c) => new Average(c),
};
