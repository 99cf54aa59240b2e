import { z } from 'zod';
import { duration } from '../../core/duration';
import { reading, type Quality, type Reading } from '../../core/reading';
import { classify, markBad } from '../input';
import type { FlushableStage, StageContext, StageKind } from '../stage';

export const AGGREGATE_FNS = ['mean', 'min', 'max', 'last', 'count', 'sum'] as const;

export const aggregateSchema = z
  .strictObject({
    kind: z.literal('aggregate'),
    window: duration('Length of each window; windows end at multiples of it since the epoch (1m windows end on the minute).').refine(
      (ms) => ms > 0,
      'window must be longer than 0',
    ),
    fn: z.enum(AGGREGATE_FNS).default('mean').describe('What one window becomes: mean, min, max, last, count or sum of its readings.'),
  })
  .describe(
    'Tumbling windows (end - window, end]: one reading per window that received readings, stamped with the window end, emitted when a later reading arrives or at the first flush after the end.',
  );

export type AggregateConfig = z.infer<typeof aggregateSchema>;
export type AggregateFn = (typeof AGGREGATE_FNS)[number];

class Aggregate implements FlushableStage {
  private open = false;
  /** End of the open window: it holds readings with end - window < ts <= end. */
  private end = 0;
  private count = 0;
  private sum = 0;
  private min = 0;
  private max = 0;
  private last = 0;
  private flags = 0;
  private uncertain = false;

  constructor(
    private readonly c: AggregateConfig,
    private readonly ctx: StageContext,
  ) {}

  process(r: Reading): Reading | null {
    const kind = classify(r);
    if (kind === 'pass') return r;
    if (kind === 'invalid') return markBad(r);
    const v = r.value as number;
    // Right-closed windows: a reading stamped on a boundary belongs to the window
    // ending there, so the end-stamped output of an upstream aggregate falls in the
    // downstream window that contains its own window.
    const end = Math.ceil(r.ts / this.c.window) * this.c.window;
    if (this.open && end === this.end) {
      this.add(v, r.quality, r.flags);
      return null;
    }
    if (!this.open) {
      this.begin(end, v, r.quality, r.flags);
      return null;
    }
    // r belongs to another window, so the open one is complete. r carries its
    // result on (no allocation) once r's own sample has started the next window.
    const { quality, flags } = r;
    this.emitInto(r);
    this.begin(end, v, quality, flags);
    return r;
  }

  flush(now: number): Reading | null {
    // Strictly after the end: a reading stamped exactly at the end may still be on its way.
    if (!this.open || now <= this.end) return null;
    const out = reading(this.ctx.sensor, 0, 0);
    this.emitInto(out);
    this.open = false;
    return out;
  }

  nextFlush(): number | undefined {
    return this.open ? this.end + 1 : undefined;
  }

  private begin(end: number, v: number, quality: Quality, flags: number): void {
    this.open = true;
    this.end = end;
    this.count = 1;
    this.sum = v;
    this.min = v;
    this.max = v;
    this.last = v;
    this.flags = flags;
    this.uncertain = quality === 'uncertain';
  }

  private add(v: number, quality: Quality, flags: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.last = v;
    this.flags |= flags;
    if (quality === 'uncertain') this.uncertain = true;
  }

  /** Write the open window's result into `out`. */
  private emitInto(out: Reading): void {
    out.ts = this.end;
    out.value = this.result(this.c.fn);
    out.quality = this.uncertain ? 'uncertain' : 'good';
    out.flags = this.flags;
  }

  private result(fn: AggregateFn): number {
    switch (fn) {
      case 'mean':
        return this.sum / this.count;
      case 'min':
        return this.min;
      case 'max':
        return this.max;
      case 'last':
        return this.last;
      case 'count':
        return this.count;
      case 'sum':
        return this.sum;
    }
  }
}

export const aggregate: StageKind<AggregateConfig> = {
  kind: 'aggregate',
  schema: aggregateSchema,
  suppresses: true,
  create: (c, ctx) => new Aggregate(c, ctx),
};
