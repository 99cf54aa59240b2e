import { z } from 'zod';
import type { StageKind } from '../stage';
import { aggregate } from './aggregate';
import { average } from './average';
import { compensate } from './compensate';
import { deadband } from './deadband';
import { hysteresis } from './hysteresis';
import { linearize } from './linearize';
import { range } from './range';
import { round } from './round';
import { scale } from './scale';
import { spike } from './spike';

/**
 * The stage registry: `kind` → stage. Written out, no directory scanning. Add a
 * new stage by importing it here. Listed in the order they usually appear in a
 * pipeline (docs/pipeline.md shows them in this order).
 */
// Stage kinds have heterogeneous config types; the registry erases them to the base
// StageKind, and each factory receives the config its own schema parsed.
export const STAGE_KINDS: readonly StageKind[] = [range, spike, linearize, scale, compensate, hysteresis, average, aggregate, deadband, round].map(
  (k) => k as unknown as StageKind,
);

const byKind = new Map(STAGE_KINDS.map((s) => [s.kind, s]));

export function stageKind(kind: string): StageKind {
  const k = byKind.get(kind);
  if (!k) throw new Error(`unknown stage kind "${kind}"; valid kinds: ${[...byKind.keys()].join(', ')}`);
  return k;
}

export type StageConfig = { kind: string } & Record<string, unknown>;

/** Schema of one pipeline entry: a union discriminated by `kind`. */
export const stageConfigSchema = z.discriminatedUnion(
  'kind',
  STAGE_KINDS.map((s) => s.schema) as unknown as [z.ZodObject<{ kind: z.ZodLiteral<string> }>, ...z.ZodObject<{ kind: z.ZodLiteral<string> }>[]],
) as unknown as z.ZodType<StageConfig>;

/** Schema of a whole pipeline (a sensor's `pipeline:` list). */
export const pipelineConfigSchema = z.array(stageConfigSchema);
