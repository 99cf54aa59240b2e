import type { RuleRow } from '../daemon/view';
import type { PublishEvent } from '../arbiter/event';
import { everyOnGrid, type Clock, type GridTimer } from '../core/clock';
import type { Logger } from '../core/logger';
import type { Reading } from '../core/reading';
import type { Sink } from '../daemon/hub';
import { Quality, qualityCode, SensorEnv } from './expr/env';
import type { RuleSet } from './load';
import { RuleRuntime, type IntentTarget, type RuntimeContext, type TraceEntry } from './rule-runtime';

/**
 * The rules engine: a hub Sink. A reading updates its sensor's slot in the
 * rule set's environment and re-evaluates only the rules that read that
 * sensor (index sensor → rules). `for:` durations, cooldowns and PID sample
 * times run on the injected clock; a periodic check applies the failsafe of a
 * rule's actuators while any of its inputs is stale or bad.
 *
 *   reading ─► index[sensor] ─► slot update ─► rule.evaluate() ─► arbiter.hold/release
 *                                                               └► publishEvent (alarms)
 */
export interface SensorLookup {
  /** inputTs: the last usable sample, also one the pipeline held back (see SensorTable). */
  get(sensor: string): { maxAgeMs: number; last?: Reading; inputTs?: number } | undefined;
}

export interface RulesEngineOptions {
  clock: Clock;
  log: Logger;
  arbiter: IntentTarget;
  publishEvent: PublishEvent;
  /** Latest readings and per-sensor maxAge (the daemon's SensorTable). */
  sensors?: SensorLookup;
  /** Period of the staleness check (default 1 s). */
  staleCheckMs?: number;
  /** Observer of state changes and actions (`fieldgate rules test`, tests). */
  trace?: (t: TraceEntry) => void;
}

interface IndexEntry {
  slot: number;
  rules: RuleRuntime[];
}

export class RulesEngine implements Required<Sink> {
  private env = new SensorEnv();
  private runtimes: RuleRuntime[] = [];
  private index = new Map<string, IndexEntry>();
  private files: string[] = [];
  private staleTimer?: GridTimer;
  private running = false;
  private readonly ctx: RuntimeContext;
  private readonly log: Logger;
  /** Readings evaluated (for the benchmark and status). */
  evaluations = 0;

  constructor(private readonly opts: RulesEngineOptions) {
    this.log = opts.log.child({ component: 'rules' });
    this.ctx = { clock: opts.clock, log: this.log, arbiter: opts.arbiter, publishEvent: opts.publishEvent, env: () => this.env, trace: opts.trace };
  }

  /**
   * Swap in a new rule set atomically, keeping each rule's state by its id. A
   * rule whose text only changed keeps its timers, alarm and holds; a changed
   * rule keeps what still applies (RuleRuntime.rebind); a removed rule releases
   * its holds and clears its alarm. Every hold change of the swap is one arbiter
   * batch: no lower priority wins for a moment. New rules start idle and are
   * evaluated once against the latest values.
   */
  load(set: RuleSet): void {
    const arbiter = this.opts.arbiter;
    if (arbiter.batch) arbiter.batch(() => this.swap(set));
    else this.swap(set);
  }

  private swap(set: RuleSet): void {
    const now = this.opts.clock.now();
    const old = new Map(this.runtimes.map((rt) => [rt.id, rt]));
    const env = set.env;
    for (let s = 0; s < env.size; s++) this.initSlot(env, s, now);
    env.now = now;
    this.env = env;
    this.files = set.files;
    const next: RuleRuntime[] = [];
    const fresh: RuleRuntime[] = [];
    for (const rule of set.rules) {
      const prev = old.get(rule.config.id);
      if (prev) {
        old.delete(rule.config.id);
        prev.rebind(rule, env);
        next.push(prev);
      } else {
        const rt = new RuleRuntime(rule, this.ctx);
        rt.bind(rule, env);
        next.push(rt);
        fresh.push(rt);
      }
    }
    for (const rt of old.values()) rt.remove('rule removed');
    const index = new Map<string, IndexEntry>();
    for (const rt of next) {
      for (const sensor of rt.rule.inputs) {
        let e = index.get(sensor);
        if (!e) index.set(sensor, (e = { slot: env.slot(sensor), rules: [] }));
        e.rules.push(rt);
      }
    }
    this.runtimes = next;
    this.index = index;
    if (this.running) for (const rt of next) rt.start();
    for (const rt of fresh) if (rt.rule.inputs.some((s) => env.quality[env.slot(s)] !== Quality.NONE)) rt.evaluate();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const rt of this.runtimes) rt.start();
    this.staleTimer = everyOnGrid(this.opts.clock, this.opts.staleCheckMs ?? 1000, () => this.checkStaleness());
  }

  /** Clear every timer. Holds stay with the arbiter (its shutdown applies failsafes). */
  stop(): void {
    this.running = false;
    this.staleTimer?.stop();
    this.staleTimer = undefined;
    for (const rt of this.runtimes) rt.stop(false);
  }

  accept(r: Reading): void {
    const e = this.index.get(r.sensor);
    if (e === undefined) return;
    const env = this.env;
    const s = e.slot;
    env.now = this.opts.clock.now();
    env.values[s] = r.value;
    env.ts[s] = r.ts;
    const q = qualityCode(r.quality);
    const qualityChanged = (q === Quality.BAD) !== (env.quality[s] === Quality.BAD);
    env.quality[s] = q;
    if (q !== Quality.BAD && r.ts > env.fresh[s]) env.fresh[s] = r.ts;
    this.evaluations++;
    const rules = e.rules;
    for (let i = 0; i < rules.length; i++) {
      const rt = rules[i];
      if (qualityChanged || rt.failsafe) this.checkRule(rt);
      rt.evaluate();
    }
  }

  /** A usable sample its pipeline held back: the input is alive (lifts a staleness failsafe). */
  sampled(sensor: string, ts: number): void {
    const e = this.index.get(sensor);
    if (e === undefined) return;
    const env = this.env;
    if (ts > env.fresh[e.slot]) env.fresh[e.slot] = ts;
    const rules = e.rules;
    for (let i = 0; i < rules.length; i++) {
      if (rules[i].failsafe) {
        env.now = this.opts.clock.now();
        this.checkRule(rules[i]);
      }
    }
  }

  rules(): RuleRow[] {
    return this.runtimes.map((rt) => ({ id: rt.id, file: rt.rule.file, state: rt.state, lastFired: rt.lastFired, safety: rt.rule.config.safety }));
  }

  status(): { loaded: number; active: number; failsafe: string[]; files: string[]; evaluations: number; actionErrors: number } {
    return {
      loaded: this.runtimes.length,
      active: this.runtimes.filter((rt) => rt.state === 'active').length,
      failsafe: this.runtimes.filter((rt) => rt.failsafe).map((rt) => rt.id),
      files: this.files,
      evaluations: this.evaluations,
      actionErrors: this.runtimes.reduce((n, rt) => n + rt.errors, 0),
    };
  }

  /** Run the staleness check now (the periodic timer calls this). */
  checkStaleness(): void {
    this.env.now = this.opts.clock.now();
    for (const rt of this.runtimes) this.checkRule(rt);
  }

  private checkRule(rt: RuleRuntime): void {
    if (!rt.rule.config.enabled) return;
    const env = this.env;
    const maxAge = rt.rule.config.maxAge;
    let why = '';
    for (const s of rt.inputSlots) {
      if (env.quality[s] === Quality.BAD) why = `input ${env.ids[s]} is bad`;
      else if (env.now - env.fresh[s] > (maxAge ?? env.maxAge[s])) why = `input ${env.ids[s]} is stale (no usable sample for ${env.now - env.fresh[s]} ms)`;
      if (why) break;
    }
    rt.setFailsafe(why !== '', why);
  }

  private initSlot(env: SensorEnv, s: number, now: number): void {
    const id = env.ids[s];
    const info = this.opts.sensors?.get(id);
    if (info) env.maxAge[s] = info.maxAgeMs;
    const prev = this.env.indexOf(id);
    if (prev !== undefined && this.env.quality[prev] !== Quality.NONE) {
      env.values[s] = this.env.values[prev];
      env.ts[s] = this.env.ts[prev];
      env.fresh[s] = this.env.fresh[prev];
      env.quality[s] = this.env.quality[prev];
    } else if (info?.last) {
      env.values[s] = info.last.value;
      env.ts[s] = info.last.ts;
      env.fresh[s] = info.inputTs ?? info.last.ts;
      env.quality[s] = qualityCode(info.last.quality);
    } else {
      env.ts[s] = now;
      env.fresh[s] = now;
    }
  }
}
