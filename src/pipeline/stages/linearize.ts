import { z } from 'zod';
import type { Reading } from '../../core/reading';
import { classify, markBad, setValue } from '../input';
import type { Stage, StageKind } from '../stage';

export const linearizeSchema = z
  .strictObject({
    kind: z.literal('linearize'),
    table: z
      .array(z.tuple([z.number(), z.number()]))
      .min(2)
      .optional()
      .describe('Calibration points [[x, y], ...], x strictly increasing, at least two; straight lines between them.'),
    outside: z
      .enum(['clamp', 'extrapolate'])
      .optional()
      .describe('table only: beyond the first/last point, clamp to its y (default) or extrapolate the end segment.'),
    polynomial: z
      .array(z.number())
      .min(1)
      .optional()
      .describe('Coefficients [c0, c1, c2, ...] of y = c0 + c1·x + c2·x² + ...'),
  })
  .superRefine((c, ctx) => {
    if ((c.table === undefined) === (c.polynomial === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'linearize needs exactly one of table or polynomial' });
    }
    if (c.outside !== undefined && c.table === undefined) ctx.addIssue({ code: 'custom', message: 'outside applies to table only', path: ['outside'] });
    const t = c.table ?? [];
    for (let i = 1; i < t.length; i++) {
      if (!(t[i][0] > t[i - 1][0])) {
        ctx.addIssue({ code: 'custom', message: `table x values must be strictly increasing (${t[i][0]} after ${t[i - 1][0]})`, path: ['table', i, 0] });
      }
    }
  })
  .describe('Correct a non-linear sensor with a piecewise-linear table or a polynomial.');

export type LinearizeConfig = z.infer<typeof linearizeSchema>;

class Table implements Stage {
  private readonly xs: Float64Array;
  private readonly ys: Float64Array;
  constructor(
    points: [number, number][],
    private readonly clamp: boolean,
  ) {
    this.xs = Float64Array.from(points, (p) => p[0]);
    this.ys = Float64Array.from(points, (p) => p[1]);
  }
  process(r: Reading): Reading {
    const c = classify(r);
    if (c === 'pass') return r;
    if (c === 'invalid') return markBad(r);
    return setValue(r, this.at(r.value as number));
  }
  at(x: number): number {
    const { xs, ys } = this;
    const last = xs.length - 1;
    if (this.clamp && x <= xs[0]) return ys[0];
    if (this.clamp && x >= xs[last]) return ys[last];
    // Segment i is [xs[i], xs[i+1]]: the last i with xs[i] <= x, kept within 0..last-1 so ends extrapolate.
    let lo = 0;
    let hi = last - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (xs[mid] <= x) lo = mid;
      else hi = mid - 1;
    }
    return ys[lo] + ((ys[lo + 1] - ys[lo]) * (x - xs[lo])) / (xs[lo + 1] - xs[lo]);
  }
}

class Polynomial implements Stage {
  private readonly cs: Float64Array;
  constructor(coefficients: number[]) {
    this.cs = Float64Array.from(coefficients);
  }
  process(r: Reading): Reading {
    const c = classify(r);
    if (c === 'pass') return r;
    if (c === 'invalid') return markBad(r);
    const x = r.value as number;
    const cs = this.cs;
    // Horner: c0 + x·(c1 + x·(c2 + ...)).
    let y = cs[cs.length - 1];
    for (let i = cs.length - 2; i >= 0; i--) y = y * x + cs[i];
    return setValue(r, y);
  }
}

export const linearize: StageKind<LinearizeConfig> = {
  kind: 'linearize',
  schema: linearizeSchema,
  create: (c) => (c.table ? new Table(c.table, c.outside !== 'extrapolate') : new Polynomial(c.polynomial ?? [])),
};
