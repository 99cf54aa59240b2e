import { z } from 'zod';
import type { StageKind } from '../stage';
import { round } from './round';

/**
 * The stage registry: `kind` → stage. Written out, no directory scanning. Add a
 * new stage by importing it here.
 */
// Stage kinds have heterogeneous config types; the registry erases them to the base
// StageKind, and each factory receives the config its own schema parsed.
export const STAGE_KINDS: readonly StageKind[] = [round as unknown as StageKind];

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
