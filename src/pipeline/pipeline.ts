import type { SensorDecl } from '../config/sensor';
import type { Quality, Reading, ReadingValue } from '../core/reading';
import { isFlushable, type FlushableStage, type Stage, type StageContext } from './stage';
import { stageKind, type StageConfig } from './stages';

/** One line of `fieldgate read`: the reading as it left a stage ('raw': as the driver gave it). */
export interface TraceStep {
  stage: string;
  value: ReadingValue;
  quality: Quality;
  /** This stage filtered the reading out; value/quality are what it received. */
  dropped: boolean;
}

/**
 * One sensor's chain of stages, built from its validated `pipeline` config.
 *
 *   raw reading ─► stage 1 ─► stage 2 ─► ... ─► reading, or null (dropped)
 *
 * Stages keep state (rings, last values), so a Pipeline belongs to one sensor and
 * is fed that sensor's readings one at a time, in timestamp order, from the
 * event loop. Readings are mutated in place and the same object is returned.
 */
export class Pipeline {
  readonly kinds: readonly string[];
  private readonly stages: Stage[];
  private readonly flushAt: number[];
  private readonly suppressing: boolean[];
  /** Index of the stage that dropped the last reading process()/traced() returned null for. */
  private droppedAt = -1;

  /** `configs` are parsed configs (defaults applied, durations in ms), as in SensorDecl.pipeline. */
  constructor(configs: readonly StageConfig[], ctx: StageContext) {
    this.kinds = configs.map((c) => c.kind);
    this.stages = configs.map((c) => stageKind(c.kind).create(c, ctx));
    this.suppressing = configs.map((c) => stageKind(c.kind).suppresses === true);
    this.flushAt = this.stages.flatMap((s, i) => (isFlushable(s) ? [i] : []));
  }

  /** True when some stage holds readings back until a window closes: call flush() when nextFlush() says. */
  get flushable(): boolean {
    return this.flushAt.length > 0;
  }

  /** When flush() would next close a window (the earliest of its windowed stages), or undefined: none is open. */
  nextFlush(): number | undefined {
    let at: number | undefined;
    for (const i of this.flushAt) {
      const t = (this.stages[i] as FlushableStage).nextFlush();
      if (t !== undefined && (at === undefined || t < at)) at = t;
    }
    return at;
  }

  process(r: Reading): Reading | null {
    return this.run(r, 0);
  }

  /**
   * After process()/traced() returned null: whether a stage that suppresses
   * output (deadband, hysteresis, average, aggregate, spike) held the reading
   * back — the sample was usable, there was just nothing new to report.
   */
  get lastDropSuppressed(): boolean {
    return this.droppedAt >= 0 && this.suppressing[this.droppedAt];
  }

  /**
   * Close windows that ended at or before `now`: each flushable stage's result
   * goes through the stages after it, in stage order (so an upstream window's
   * result reaches a downstream window before that one is flushed).
   */
  flush(now: number): Reading[] {
    const out: Reading[] = [];
    for (const i of this.flushAt) {
      const r = (this.stages[i] as FlushableStage).flush(now);
      const done = r && this.run(r, i + 1);
      if (done) out.push(done);
    }
    return out;
  }

  /**
   * Process `r` and record it after every stage. This *is* the live processing
   * of `r` (stage state advances exactly as with process(), nothing is cloned or
   * replayed), so what `fieldgate read` shows is what was published; the
   * output is the last step unless it is dropped. Use traced(r, steps) where
   * the output object is needed too.
   */
  trace(r: Reading): TraceStep[] {
    const steps: TraceStep[] = [];
    this.traced(r, steps);
    return steps;
  }

  /** process() that also appends one TraceStep per stage to `steps` (starting with 'raw'). */
  traced(r: Reading, steps: TraceStep[]): Reading | null {
    steps.push({ stage: 'raw', value: r.value, quality: r.quality, dropped: false });
    let cur: Reading = r;
    for (let i = 0; i < this.stages.length; i++) {
      const { value, quality } = cur;
      const next = this.stages[i].process(cur);
      if (!next) {
        steps.push({ stage: this.kinds[i], value, quality, dropped: true });
        this.droppedAt = i;
        return null;
      }
      steps.push({ stage: this.kinds[i], value: next.value, quality: next.quality, dropped: false });
      cur = next;
    }
    return cur;
  }

  private run(r: Reading, from: number): Reading | null {
    let cur: Reading | null = r;
    for (let i = from; i < this.stages.length; i++) {
      cur = this.stages[i].process(cur);
      if (cur === null) {
        this.droppedAt = i;
        return null;
      }
    }
    return cur;
  }
}

/** One Pipeline per sensor, keyed by sensor id; each gets a context naming its sensor. */
export function buildPipelines(sensors: readonly Pick<SensorDecl, 'id' | 'pipeline'>[], ctx: Omit<StageContext, 'sensor'>): Map<string, Pipeline> {
  const out = new Map<string, Pipeline>();
  // Not a spread: ctx may be an object whose methods live on its prototype (the hub).
  const latest = (id: string) => ctx.latest(id);
  for (const s of sensors) out.set(s.id, new Pipeline(s.pipeline, { clock: ctx.clock, latest, sensor: s.id }));
  return out;
}
