import type { Arbiter, Owner } from '../arbiter/arbiter';
import type { PublishEvent } from '../arbiter/event';
import type { Clock, TimerHandle } from '../core/clock';
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

export type IntentTarget = Pick<Arbiter, 'hold' | 'release' | 'failsafe'>;

export interface TraceEntry {
  ts: number;
  rule: string;
  what: 'pending' | 'fire' | 'release' | 'idle' | 'set' | 'release-hold' | 'event' | 'clear' | 'failsafe' | 'failsafe-clear' | 'pid';
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
  readonly owner: Owner;
  private readonly elseOwner: Owner;
  private readonly failsafeOwner: Owner;
  private timer?: TimerHandle;
  private pidTimer?: TimerHandle;
  private pid?: Pid;
  /** Env slots of the inputs, refreshed by bind(). */
  inputSlots: number[] = [];

  constructor(
    public rule: CompiledRule,
    private readonly ctx: RuntimeContext,
  ) {
    const id = rule.config.id;
    this.owner = { key: `rule:${id}`, label: id, priority: rule.config.safety ? 'safety' : 'rule' };
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
    for (const a of this.rule.actuators) {
      this.ctx.arbiter.release(a, this.owner.key);
      this.ctx.arbiter.release(a, this.elseOwner.key);
      this.ctx.arbiter.release(a, this.failsafeOwner.key);
    }
  }

  /** Re-evaluate after an input changed. Hot path: no allocation unless the state changes. */
  evaluate(): void {
    const r = this.rule;
    if (!r.when || !r.config.enabled) return;
    const env = this.ctx.env();
    switch (this.state) {
      case 'idle':
        if (!r.when.eval(env)) return;
        if (r.config.for > 0) {
          this.state = 'pending';
          this.note('pending', `for ${r.config.for} ms`);
          this.timer = this.ctx.clock.setTimeout(() => this.forElapsed(), r.config.for);
        } else this.fire();
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
      default:
        return;
    }
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
    for (const a of this.rule.actuators) this.ctx.arbiter.release(a, this.elseOwner.key);
    this.run(this.rule.config.then ?? [], this.owner);
  }

  private releaseRule(): void {
    this.note('release');
    for (const a of this.rule.actuators) this.ctx.arbiter.release(a, this.owner.key);
    this.run(this.rule.config.else ?? [], this.elseOwner);
    const cooldown = this.rule.config.cooldown;
    if (cooldown <= 0) {
      this.state = 'idle';
      return;
    }
    this.state = 'cooldown';
    this.timer = this.ctx.clock.setTimeout(() => {
      this.timer = undefined;
      this.state = 'idle';
      this.note('idle', 'cooldown over');
      this.ctx.env().now = this.ctx.clock.now();
      this.evaluate();
    }, cooldown);
  }

  private run(actions: readonly RuleAction[], owner: Owner): void {
    const now = this.ctx.clock.now();
    for (const action of actions) {
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
        this.ctx.publishEvent({ ts: now, type: 'alarm', severity: action.event.severity, source: this.id, message });
      } else {
        const message = typeof action.clear === 'string' ? action.clear : `cleared: ${this.rule.config.description ?? this.id}`;
        this.note('clear', message);
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
