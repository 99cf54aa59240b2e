import { VirtualClock } from '../../src/core/clock';
import { reading, type Quality, type Reading, type ReadingValue } from '../../src/core/reading';
import type { Stage, StageContext } from '../../src/pipeline/stage';
import { stageConfigSchema, stageKind } from '../../src/pipeline/stages';

/** A stage built from raw config the way config load does it: validated, defaults applied. */
export function makeStage(raw: Record<string, unknown>, latest: Record<string, Reading> = {}): Stage {
  const config = stageConfigSchema.parse(raw);
  return stageKind(config.kind).create(config, context(latest));
}

export function context(latest: Record<string, Reading> = {}, sensor = 's'): StageContext {
  return { clock: new VirtualClock(0), sensor, latest: (id) => latest[id] };
}

/** The first problem message config validation reports, or undefined when valid. */
export function configError(raw: Record<string, unknown>): string | undefined {
  const r = stageConfigSchema.safeParse(raw);
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

export function r(ts: number, value: ReadingValue, quality: Quality = 'good', flags = 0): Reading {
  return reading('s', ts, value, quality, flags);
}

export type Out = [ts: number, value: ReadingValue, quality: Quality] | null;

export function out(x: Reading | null): Out {
  return x && [x.ts, x.value, x.quality];
}

/** Feed [ts, value, quality?] samples one by one; the outputs as [ts, value, quality] or null. */
export function feed(stage: Stage, samples: [number, ReadingValue, Quality?][]): Out[] {
  return samples.map(([ts, v, q]) => out(stage.process(r(ts, v, q ?? 'good'))));
}

/** Just the values of feed(), null where dropped. */
export function values(stage: Stage, vs: ReadingValue[], stepMs = 1000): (ReadingValue | null)[] {
  return vs.map((v, i) => stage.process(r(i * stepMs, v))?.value ?? null);
}
