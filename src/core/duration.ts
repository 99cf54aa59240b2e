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
 * A duration in config: a string with a unit ("500ms", "10s", "5m", "1h", "1d")
 * or a number of milliseconds. Parses to milliseconds.
 */
export function duration(description?: string) {
  const base = z
    .union([z.string().regex(DURATION_RE, 'expected a duration such as "500ms", "10s", "5m", "1h" or "1d"'), z.number().nonnegative()])
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `invalid duration ${JSON.stringify(v)}` });
        return z.NEVER;
      }
      return ms;
    });
  return description ? base.describe(description) : base;
}
