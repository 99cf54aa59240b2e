import { z } from 'zod';
import type { Reading } from '../core/reading';

/**
 * The input rules every stage follows, in one place so they cannot drift apart:
 *
 * - `pass`: bad quality, or a string value. The stage returns the reading
 *   untouched and does not let it into its state (averages, medians, last values).
 * - `invalid`: NaN or ±Infinity with good/uncertain quality. A stage with an
 *   `action` (range, spike) applies it (drop, or mark bad); every other stage
 *   marks the reading bad and returns it. State is not touched.
 * - `number`: a finite number with good or uncertain quality: processed. An
 *   uncertain reading is processed like a good one and keeps its quality.
 */
export type InputClass = 'number' | 'pass' | 'invalid';

export function classify(r: Reading): InputClass {
  if (r.quality === 'bad' || typeof r.value !== 'number') return 'pass';
  return Number.isFinite(r.value) ? 'number' : 'invalid';
}

export function markBad(r: Reading): Reading {
  r.quality = 'bad';
  return r;
}

/** Set a computed value; a non-finite result (overflow, division by zero) marks the reading bad instead, value unchanged. */
export function setValue(r: Reading, v: number): Reading {
  if (Number.isFinite(v)) r.value = v;
  else r.quality = 'bad';
  return r;
}

export const REJECT_ACTIONS = ['drop', 'bad'] as const;
export type RejectAction = (typeof REJECT_ACTIONS)[number];

/** Config key `action` of stages that reject readings. */
export function rejectActionSchema(what: string) {
  return z.enum(REJECT_ACTIONS).default('drop').describe(`What happens to ${what}: drop (filtered out) or bad (kept, quality set to bad).`);
}

export function reject(r: Reading, action: RejectAction): Reading | null {
  return action === 'drop' ? null : markBad(r);
}
