import type { Arbiter, Owner } from '../arbiter/arbiter';
import type { PublishEvent } from '../arbiter/event';
import type { Clock, TimerHandle } from '../core/clock';
import { formatDuration } from '../core/duration';
import type { Logger } from '../core/logger';
import type { SensorEnv } from './expr/env';
import type { CompiledRule } from './load';
import { Pid } from './pid';
import type { RuleAction } from './schema';

/**
 * One rule's state machine:
 *
 *   idle ──when──► pending ──(when held for `for:`)──► active ──until (or not when)──► cooldown ──► idle
 *     ▲               │ when false                       │ (no cooldown)                 (then re-evaluated)
 *     └───────────────┴──────────────────────────────────┘
 *
 * Firing releases the rule's `else` holds and runs `then`; `set` actions hold
 * the actuator (safety priority for safety rules) while active. Releasing drops
 * every `then` hold and runs `else`, whose `set`s hold at normal-rule priority
 * until the rule fires again. PID rules are stepped by a clock interval instead.
 */
export type RuleState = 'idle' | 'pending' | 'active' | 'cooldown';

/** What the rules need of the arbiter; `batch` (optional for test doubles) makes a set swap one step. */
export type IntentTarget = Pick<Arbiter, 'hold' | 'release' | 'failsafe'> & Partial<Pick<Arbiter, 'batch'>>;

export interface TraceEntry {
  ts: number;
  rule: string;
  what: 'pending' | 'fire' | 'release' | 'idle' | 'set' | 'release-hold' | 'event' | 'clear' | 'failsafe' | 'failsafe-clear' | 'pid' | 'reloaded' | 'removed' | 'not-fired';
  detail?: string;
}

export interface RuntimeContext {
  clock: Clock;
  log: Logger;
  arbiter: IntentTarget;
  publishEvent: PublishEvent;
  env: () => SensorEnv;
  trace?: (t: TraceEntry) => void;
}

export class RuleRuntime {
  state: RuleState = 'idle';
  lastFired?: number;
  /** True while the failsafe is held because inputs are stale or bad. */
  failsafe = false;
  errors = 0;
  lastError?: string;
  /** An alarm this rule raised (an event in `then`) and has not cleared. */
  alarmActive = false;
  owner: Owner;
  private readonly elseOwner: Owner;
  private readonly failsafeOwner: Owner;
  private timer?: TimerHandle;
  private pidTimer?: TimerHandle;
  private pid?: Pid;
  private pendingSince = 0;
  /** The `else` holds are in place (the rule released and has not fired since). */
  private elseApplied = false;
  /** A condition true during cooldown was already reported (rules test). */
  private cooldownNoted = false;
  private cooldownUntil = 0;
  /** Env slots of the inputs, refreshed by bind(). */
  inputSlots: number[] = [];

  constructor(
    public rule: CompiledRule,
    private readonly ctx: RuntimeContext,
  ) {
    const id = rule.config.id;
    this.owner = ruleOwner(rule);
    this.elseOwner = { key: `rule-else:${id}`, label: id, priority: 'rule' };
    this.failsafeOwner = { key: `failsafe:${id}`, label: `${id} (inputs stale or bad)`, priority: 'failsafe' };
  }

  get id(): string {
    return this.rule.config.id;
  }

  /** Attach to a (new) rule set's compiled rule and environment. */
  bind(rule: CompiledRule, env: SensorEnv): void {
    this.rule = rule;
    this.inputSlots = rule.inputs.map((s) => env.slot(s));
  }

  /**
   * Take over a new definition of this rule (same id) on a reload. A change of
   * text only (description, event and clear messages) changes nothing else. A
   * changed rule keeps its state and holds where they still apply: an active rule
   * stays active, holding what its new `then` sets, until its new release
   * condition is true on the current input (evaluated now); a pending one keeps
   * the time it has already waited. The engine runs this inside an arbiter batch.
   */
  rebind(next: CompiledRule, env: SensorEnv): void {
    const prev = this.rule;
    this.bind(next, env);
    if (behaviourKey(prev.config) === behaviourKey(next.config)) return;
    this.note('reloaded', 'definition changed');
    if (!next.config.enabled) {
      this.remove('rule disabled', prev);
      return;
    }
    this.owner = ruleOwner(next);
    for (const a of prev.actuators) if (!next.actuators.includes(a)) this.releaseAll(a);
    if (this.failsafe) for (const a of next.actuators) this.ctx.arbiter.failsafe(a, this.failsafeOwner);
    if (JSON.stringify(prev.config.pid) !== JSON.stringify(next.config.pid)) {
      this.ctx.clock.clearInterval(this.pidTimer);
      this.pidTimer = undefined;
      this.pid = undefined; // start() (called by the engine) builds the new controller
    }
    if (!next.when) return;
    if (this.state === 'active') {
      this.run(next.config.then ?? [], this.owner, 'holds');
      this.evaluate();
    } else if (this.state === 'pending') {
      this.ctx.clock.clearTimeout(this.timer);
      this.timer = undefined;
      this.state = 'idle';
      if (next.when.eval(env)) this.pend(this.pendingSince);
    } else {
      if (this.elseApplied) this.run(next.config.else ?? [], this.elseOwner, 'holds');
      if (this.state === 'idle') this.evaluate();
    }
  }

  /**
   * The rule is gone from the set (or disabled): stop it, release every hold it
   * has, and clear the alarm it raised — nobody else ever will.
   */
  remove(reason: string, was: CompiledRule = this.rule): void {
    this.stop(false);
    for (const a of was.actuators) this.releaseAll(a);
    this.note('removed', reason);
    const now = this.ctx.clock.now();
    if (this.alarmActive) {
      this.alarmActive = false;
      this.ctx.publishEvent({ ts: now, type: 'alarm.clear', severity: 'info', source: this.id, message: `${this.id}: alarm cleared (${reason})`, details: { reason } });
    }
    if (this.failsafe && was.actuators.length > 0) {
      this.ctx.publishEvent({ ts: now, type: 'failsafe.clear', severity: 'info', source: this.id, message: `rule ${this.id}: failsafe lifted (${reason})`, details: { reason } });
    }
    this.failsafe = false;
    this.state = 'idle';
  }

  start(): void {
    const pid = this.rule.config.pid;
    if (!pid || !this.rule.config.enabled || this.pidTimer) return;
    this.pid ??= new Pid(pid);
    this.pidTimer = this.ctx.clock.setInterval(() => this.pidStep(), pid.sampleTime);
  }

  /** Clear timers; with `releaseHolds`, also give up every hold (rule removed or changed). */
  stop(releaseHolds: boolean): void {
    this.ctx.clock.clearTimeout(this.timer);
    this.ctx.clock.clearInterval(this.pidTimer);
    this.timer = undefined;
    this.pidTimer = undefined;
    if (!releaseHolds) return;
    for (const a of this.rule.actuators) this.releaseAll(a);
  }

  private releaseAll(actuator: string): void {
    this.ctx.arbiter.release(actuator, this.owner.key);
    this.ctx.arbiter.release(actuator, this.elseOwner.key);
    this.ctx.arbiter.release(actuator, this.failsafeOwner.key);
  }

  /** Re-evaluate after an input changed. Hot path: no allocation unless the state changes. */
  evaluate(): void {
    const r = this.rule;
    if (!r.when || !r.config.enabled) return;
    const env = this.ctx.env();
    switch (this.state) {
      case 'idle':
        if (!r.when.eval(env)) return;
        this.pend(this.ctx.clock.now());
        return;
      case 'pending':
        if (!r.when.eval(env)) {
          this.ctx.clock.clearTimeout(this.timer);
          this.timer = undefined;
          this.state = 'idle';
          this.note('idle', 'condition no longer true');
        }
        return;
      case 'active':
        if (r.until ? r.until.eval(env) : !r.when.eval(env)) this.releaseRule();
        return;
      case 'cooldown':
        // Only traced (rules test): why a true condition does not fire now.
        if (this.ctx.trace && !this.cooldownNoted && r.when.eval(env)) {
          this.cooldownNoted = true;
          this.note('not-fired', `condition true, but the rule rests for its cooldown of ${formatDuration(r.config.cooldown)} (fires again at the earliest in ${formatDuration(Math.max(0, this.cooldownUntil - this.ctx.clock.now()))})`);
        }
        return;
    }
  }

  /** The condition became true (at `since`): fire now, or once it has held for `for:`. */
  private pend(since: number): void {
    const wait = this.rule.config.for - (this.ctx.clock.now() - since);
    if (wait <= 0) {
      this.fire();
      return;
    }
    this.state = 'pending';
    this.pendingSince = since;
    this.note('pending', `for ${this.rule.config.for} ms`);
    this.timer = this.ctx.clock.setTimeout(() => this.forElapsed(), wait);
  }

  private forElapsed(): void {
    this.timer = undefined;
    if (this.state !== 'pending') return;
    const env = this.ctx.env();
    env.now = this.ctx.clock.now();
    if (this.rule.when?.eval(env)) this.fire();
    else {
      this.state = 'idle';
      this.note('idle', 'condition no longer true');
    }
  }

  private fire(): void {
    this.state = 'active';
    this.lastFired = this.ctx.clock.now();
    this.note('fire');
    this.elseApplied = false;
    for (const a of this.rule.actuators) this.ctx.arbiter.release(a, this.elseOwner.key);
    this.run(this.rule.config.then ?? [], this.owner, 'then');
  }

  private releaseRule(): void {
    this.note('release');
    for (const a of this.rule.actuators) this.ctx.arbiter.release(a, this.owner.key);
    this.elseApplied = true;
    this.run(this.rule.config.else ?? [], this.elseOwner, 'else');
    const cooldown = this.rule.config.cooldown;
    if (cooldown <= 0) {
      this.state = 'idle';
      return;
    }
    this.state = 'cooldown';
    this.cooldownNoted = false;
    this.cooldownUntil = this.ctx.clock.now() + cooldown;
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      this.state = 'idle';
      this.note('idle', 'cooldown over');
      this.ctx.env().now = this.ctx.clock.now();
      this.evaluate();
    }, cooldown);
  }

  /**
   * Run a list of actions. `holds`: only (re)take the `set` holds — a reload of an
   * active rule must not publish its alarm a second time.
   */
  private run(actions: readonly RuleAction[], owner: Owner, phase: 'then' | 'else' | 'holds'): void {
    const now = this.ctx.clock.now();
    for (const action of actions) {
      if (phase === 'holds' && !('set' in action)) continue;
      if ('set' in action) {
        const { actuator, value } = action.set;
        this.note('set', `${actuator} = ${String(value)}`);
        const res = this.ctx.arbiter.hold(actuator, owner, value);
        if (!res.ok) this.fail(`set ${actuator}: ${res.error ?? 'refused'}`);
      } else if ('release' in action) {
        this.note('release-hold', action.release);
        this.ctx.arbiter.release(action.release, this.owner.key);
        this.ctx.arbiter.release(action.release, this.elseOwner.key);
      } else if ('event' in action) {
        const message = this.rule.messages.get(action)?.render(this.ctx.env()) ?? action.event.message;
        this.note('event', `${action.event.severity}: ${message}`);
        if (phase === 'then') this.alarmActive = true;
        this.ctx.publishEvent({ ts: now, type: 'alarm', severity: action.event.severity, source: this.id, message });
      } else {
        const message = typeof action.clear === 'string' ? action.clear : `cleared: ${this.rule.config.description ?? this.id}`;
        this.note('clear', message);
        this.alarmActive = false;
        this.ctx.publishEvent({ ts: now, type: 'alarm.clear', severity: 'info', source: this.id, message });
      }
    }
  }

  /** Apply or lift the failsafe on this rule's actuators when input staleness changes. */
  setFailsafe(stale: boolean, why: string): void {
    if (stale === this.failsafe) return;
    this.failsafe = stale;
    if (this.rule.actuators.length === 0) return; // an alarm-only rule has nothing to make safe
    const now = this.ctx.clock.now();
    if (stale) {
      const without = this.rule.actuators.filter((a) => !this.ctx.arbiter.failsafe(a, this.failsafeOwner));
      this.pid?.reset();
      this.note('failsafe', why);
      this.ctx.log.warn('rule inputs stale or bad: failsafe applied', { rule: this.id, why, noFailsafeValue: without });
      this.ctx.publishEvent({ ts: now, type: 'failsafe', severity: 'alarm', source: this.id, message: `rule ${this.id}: ${why}; failsafe applied`, details: { actuators: this.rule.actuators, noFailsafeValue: without } });
    } else {
      for (const a of this.rule.actuators) this.ctx.arbiter.release(a, this.failsafeOwner.key);
      this.note('failsafe-clear');
      this.ctx.log.info('rule inputs fresh again: failsafe lifted', { rule: this.id });
      this.ctx.publishEvent({ ts: now, type: 'failsafe.clear', severity: 'info', source: this.id, message: `rule ${this.id}: inputs fresh again; failsafe lifted` });
    }
  }

  private pidStep(): void {
    const pid = this.rule.config.pid;
    if (!pid || !this.pid || this.failsafe) return;
    const env = this.ctx.env();
    const v = env.values[this.inputSlots[0]];
    if (typeof v !== 'number' || Number.isNaN(v)) return;
    const out = Math.round(this.pid.step(v, pid.sampleTime / 1000) * 1000) / 1000;
    this.state = 'active';
    this.lastFired = this.ctx.clock.now();
    if (this.ctx.trace) this.note('pid', `${pid.output} = ${out} (input ${v})`);
    const res = this.ctx.arbiter.hold(pid.output, this.owner, out);
    if (!res.ok) this.fail(`pid output ${pid.output}: ${res.error ?? 'refused'}`);
  }

  /** Counted every time; logged when the message changes (a refused PID output would otherwise log every sample). */
  private fail(message: string): void {
    this.errors++;
    if (message === this.lastError) return;
    this.lastError = message;
    this.ctx.log.warn('rule action refused', { rule: this.id, err: message });
  }

  private note(what: TraceEntry['what'], detail?: string): void {
    if (this.ctx.trace) this.ctx.trace({ ts: this.ctx.clock.now(), rule: this.id, what, detail });
  }
}

function ruleOwner(rule: CompiledRule): Owner {
  const id = rule.config.id;
  return { key: `rule:${id}`, label: id, priority: rule.config.safety ? 'safety' : 'rule' };
}

/** A rule's definition without its texts (description, event and clear messages): equal keys behave the same. */
function behaviourKey(c: CompiledRule['config']): string {
  const strip = (actions: readonly RuleAction[] | undefined) =>
    actions?.map((a) => ('event' in a ? { event: { severity: a.event.severity } } : 'clear' in a ? { clear: true } : a));
  return JSON.stringify({ ...c, description: undefined, then: strip(c.then), else: strip(c.else) });
}
