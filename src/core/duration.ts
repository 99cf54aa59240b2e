import { z } from 'zod';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/** Parse "500ms", "10s", "5m", "2h", "1d" (or a plain number of milliseconds) into ms. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input : undefined;
  const m = DURATION_RE.exec(input.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** Format milliseconds the way a person would write them in a config file. */
export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * A duration in config: a string with a unit ("500ms", "10s", "5m", "1h", "1d").
 * Parses to milliseconds. A bare number is refused — `interval: 5` could mean
 * seconds or milliseconds, and reading it as milliseconds made a 5 s condition
 * fire after 5 ms — except 0, which means the same in every unit.
 */
export function duration(description?: string) {
  const base = z
    .union([z.string().regex(DURATION_RE, 'expected a duration such as "500ms", "10s", "5m", "1h" or "1d"'), z.number()])
    .transform((v, ctx) => {
      if (typeof v === 'number' && v !== 0) {
        ctx.addIssue({ code: 'custom', message: bareNumberMessage(v) });
        return z.NEVER;
      }
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return ms;
    });
  return description ? base.describe(description) : base;
}

/** The error for `interval: 5`: say how to write what was probably meant. */
export function bareNumberMessage(v: number): string {
  const n = Number.isFinite(v) && v > 0 ? String(v) : '5';
  return `a bare number is not a duration: write it with a unit, e.g. "${n}s" for seconds or "${n}ms" for milliseconds`;
}
