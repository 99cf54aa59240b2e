import type { ActuatorConfig } from '../config/actuator';
import type { ActuatorTargetValue } from '../../drivers/driver';
import { Backoff } from '../core/backoff';
import { formatDuration } from '../core/duration';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { PublishEvent } from './event';
import { isOn, valueProblem, type ActuatorValue } from './validate';
import type { WriteWatcher } from './write-watch';

/**
 * The only owner of actuator state. Rules and commands *hold intents*; the
 * arbiter picks one per actuator and writes it.
 *
 *   intents ──► pick: highest priority, then most recent ──► wanted value
 *                 (no intent: the actuator's `initial`, else it stays put)
 *   wanted ──► gate: min on / min off, max writes per minute, retry backoff
 *          ──► write (one at a time per actuator) ──► current value
 *
 * Priorities: failsafe > safety > command > rule. A change that a gate does not
 * allow yet is deferred (a clock timer), never dropped; only the latest wanted
 * value is written. Failsafe and shutdown writes ignore min on/off.
 */
export type Priority = 'rule' | 'command' | 'local' | 'safety' | 'failsafe';
/** 'local' is a hold set on site (`fieldgate actuate`): above cloud commands, below safety. */
const RANK: Record<Priority, number> = { rule: 1, command: 2, local: 2.5, safety: 3, failsafe: 4 };
const MINUTE = 60_000;

/** Who holds an intent. `key` identifies the hold (one per key and actuator); `label` is shown in status. */
export interface Owner {
  key: string;
  label: string;
  priority: Priority;
}

export interface HoldResult {
  ok: boolean;
  error?: string;
  /** The value the actuator will take (possibly after a min on/off deferral). */
  applied?: ActuatorValue;
}

export interface ActuatorStatus {
  id: string;
  /** Last value written successfully (undefined before the first write). */
  value?: ActuatorValue;
  /** Value the arbiter wants (differs from value while deferred or failing). */
  wanted?: ActuatorValue;
  owner?: string;
  priority?: Priority;
  lastWrite?: number;
  writes: number;
  errors: number;
  lastError?: string;
  failing: boolean;
}

export interface ArbiterOptions {
  actuators: readonly ActuatorConfig[];
  write: (actuatorId: string, target: unknown, value: ActuatorValue) => Promise<void>;
  clock: Clock;
  log: Logger;
  publishEvent: PublishEvent;
  /** Retry backoff of failed writes (defaults 500 ms .. 30 s, full jitter). */
  retry?: { initialMs: number; maxMs: number; random?: () => number };
  /**
   * What an actuator's target really holds (its driver kind's targetValue). Held
   * numbers are rounded to it (a PID output to an int16 register; traced) and
   * values it cannot hold at all are refused, so `current` is what the device has.
   */
  targetValue?: ActuatorTargetValue;
  /** Observer of writes a gate holds back or values rounded for the target, with the reason (`fieldgate rules test`). */
  trace?: (t: { ts: number; actuator: string; detail: string }) => void;
  /**
   * Called, synchronously, whenever something status() reports for `actuator` may
   * have changed (its intents were reconciled, a write succeeded or failed). May be
   * called when nothing changed; must not call back into the arbiter.
   */
  onChange?: (actuator: string) => void;
}

interface Held {
  owner: Owner;
  value: ActuatorValue;
  seq: number;
}

interface ActuatorState {
  cfg: ActuatorConfig;
  intents: Map<string, Held>;
  wanted?: ActuatorValue;
  top?: Held;
  current?: ActuatorValue;
  /** When the on/off state last changed (min on / min off). */
  lastSwitch: number;
  /** Times of write attempts within the last minute (rate limit). */
  recentWrites: number[];
  inflight?: Promise<void>;
  timer?: TimerHandle;
  retryAt: number;
  backoff: Backoff;
  writes: number;
  errors: number;
  lastError?: string;
  lastWrite?: number;
  failing: boolean;
  /** The last deferral traced (value, reason, time), so each is traced once. */
  deferNote?: string;
  /** Holds followed to their write outcome (watch()), grouped by owner key and value. */
  watches?: Map<string, WatchGroup>;
  /** Why and until when a gate defers the wanted value (undefined when not deferred). */
  deferral?: { at: number; reason: string };
}

/**
 * Watchers waiting for `key`'s hold of `value`. Grouped so that a burst of
 * commands asking the same value costs O(1) each: they share one write.
 */
interface WatchGroup {
  key: string;
  value: ActuatorValue;
  watchers: Set<WriteWatcher>;
  /** Failed writes of this value since the group formed. */
  attempts: number;
}

export class Arbiter {
  private readonly states = new Map<string, ActuatorState>();
  private seq = 0;
  private running = false;
  /** Inside batch(): actuators whose intents changed, written when the batch ends. */
  private batched?: Set<ActuatorState>;
  private readonly log: Logger;

  constructor(private readonly opts: ArbiterOptions) {
    this.log = opts.log.child({ component: 'arbiter' });
    const retry = opts.retry ?? { initialMs: 500, maxMs: 30_000 };
    for (const cfg of opts.actuators) {
      this.states.set(cfg.id, {
        cfg,
        intents: new Map(),
        lastSwitch: -Infinity,
        recentWrites: [],
        retryAt: 0,
        backoff: new Backoff(retry),
        writes: 0,
        errors: 0,
        failing: false,
      });
    }
  }

  /** Write initial values and start acting on intents. */
  start(): void {
    this.running = true;
    for (const s of this.states.values()) this.reconcile(s);
  }

  config(actuator: string): ActuatorConfig | undefined {
    return this.states.get(actuator)?.cfg;
  }

  /**
   * Why a hold by `owner` would be refused right now (validation, interlock,
   * rate limit for commands), or undefined if it would be accepted.
   */
  check(actuator: string, owner: Owner, value: unknown): string | undefined {
    const s = this.states.get(actuator);
    if (!s) return `unknown actuator "${actuator}"`;
    const bad = valueProblem(s.cfg, value);
    if (bad) return bad;
    for (const h of s.intents.values()) {
      if (RANK[h.owner.priority] > RANK[owner.priority] && h.owner.priority !== 'rule' && h.value !== value) {
        return `blocked by ${h.owner.priority === 'failsafe' ? 'failsafe' : h.owner.priority === 'local' ? 'local hold' : 'safety rule'} ${h.owner.label}`;
      }
    }
    if ((owner.priority === 'command' || owner.priority === 'local') && value !== s.current && this.recent(s) >= s.cfg.maxWritesPerMinute) {
      return `rate limit: at most ${s.cfg.maxWritesPerMinute} writes per minute to "${actuator}"`;
    }
    return undefined;
  }

  /** Hold `value` on `actuator` for `owner` until released or replaced. Commands are refused when check() objects. */
  hold(actuator: string, owner: Owner, value: ActuatorValue): HoldResult {
    const s = this.states.get(actuator);
    if (!s) return { ok: false, error: `unknown actuator "${actuator}"` };
    const problem = owner.priority === 'command' || owner.priority === 'local' ? this.check(actuator, owner, value) : valueProblem(s.cfg, value);
    if (problem) return { ok: false, error: problem };
    const held = this.targetHolds(s, value);
    if ('error' in held) return { ok: false, error: held.error };
    const prev = s.intents.get(owner.key);
    if (prev && prev.value === held.value && prev.owner === owner) return { ok: true, applied: s.wanted };
    if (held.value !== value) {
      this.opts.trace?.({ ts: this.opts.clock.now(), actuator, detail: `${String(value)} from ${owner.label} rounded to ${String(held.value)}: its target cannot hold ${String(value)} exactly` });
      value = held.value;
    }
    s.intents.set(owner.key, { owner, value, seq: ++this.seq });
    this.reconcile(s);
    return { ok: true, applied: s.wanted };
  }

  /** The value `s`'s target really holds for `value` (rounded), or why it cannot hold it at all. */
  private targetHolds(s: ActuatorState, value: ActuatorValue): { value: ActuatorValue } | { error: string } {
    if (typeof value !== 'number' || !this.opts.targetValue) return { value };
    const tv = this.opts.targetValue(s.cfg, value);
    if (tv && 'error' in tv) return { error: `${tv.error}; not written` };
    return { value: tv?.value ?? value };
  }

  /**
   * Change many intents as one step: actuators are decided and written once, when
   * `fn` returns, from the final set of intents. A rule set swap releases the old
   * rules' holds and takes the new ones inside a batch, so there is no moment in
   * which a lower priority wins (and no write of it).
   */
  batch<T>(fn: () => T): T {
    if (this.batched) return fn();
    const changed = (this.batched = new Set());
    try {
      return fn();
    } finally {
      this.batched = undefined;
      for (const s of changed) {
        this.settleSuperseded(s);
        this.pump(s);
      }
    }
  }

  /** Drop `owner`'s hold on `actuator` (no-op when it holds none). */
  release(actuator: string, ownerKey: string): void {
    const s = this.states.get(actuator);
    if (s && s.intents.delete(ownerKey)) this.reconcile(s);
  }

  /** Whether `ownerKey` holds an intent on `actuator`. */
  holding(actuator: string, ownerKey: string): boolean {
    return this.states.get(actuator)?.intents.has(ownerKey) ?? false;
  }

  /**
   * Release `ownerKey`'s hold after its value could not be written: besides
   * release(), an actuator with no other intent and no initial value stays at
   * the value it really has instead of retrying the abandoned one.
   */
  releaseUnwritten(actuator: string, ownerKey: string): void {
    const s = this.states.get(actuator);
    const held = s?.intents.get(ownerKey);
    if (!s || !held) return;
    s.intents.delete(ownerKey);
    if (s.intents.size === 0 && s.cfg.initial === undefined && s.wanted === held.value) s.wanted = s.current;
    this.reconcile(s);
  }

  /**
   * Follow `ownerKey`'s current hold on `actuator` to its write outcome (see
   * WriteWatcher). Call right after hold(). Returns a function that stops watching.
   */
  watch(actuator: string, ownerKey: string, w: WriteWatcher): () => void {
    const s = this.states.get(actuator);
    const held = s?.intents.get(ownerKey);
    if (!s || !held) {
      w.superseded(undefined);
      return () => {};
    }
    const id = `${ownerKey}\u0000${typeof held.value}:${String(held.value)}`;
    s.watches ??= new Map();
    let group = s.watches.get(id);
    if (!group) s.watches.set(id, (group = { key: ownerKey, value: held.value, watchers: new Set(), attempts: 0 }));
    group.watchers.add(w);
    const g = group;
    if (s.top?.value !== held.value) this.settleSuperseded(s);
    else if (!s.inflight && !s.failing && s.current === held.value) this.settleWritten(s, held.value);
    else if (s.deferral && s.top === held) w.deferred(s.deferral.at, s.deferral.reason);
    return () => {
      g.watchers.delete(w);
      if (g.watchers.size === 0 && s.watches?.get(id) === g) s.watches.delete(id);
    };
  }

  /** Whether a gate (min on/off, rate limit, retry backoff) is holding back the wanted value right now (no write under way). */
  deferred(actuator: string): boolean {
    const s = this.states.get(actuator);
    return s?.deferral !== undefined && !s.inflight;
  }

  /** Hold the actuator's failsafe value; false when it has none configured (or one it cannot take). */
  failsafe(actuator: string, owner: Owner): boolean {
    const s = this.states.get(actuator);
    if (!s || s.cfg.failsafe === undefined) return false;
    return this.hold(actuator, owner, s.cfg.failsafe).ok;
  }

  status(): ActuatorStatus[] {
    return [...this.states.values()].map((s) => ({
      id: s.cfg.id,
      value: s.current,
      wanted: s.wanted,
      owner: s.top?.owner.label,
      priority: s.top?.owner.priority,
      lastWrite: s.lastWrite,
      writes: s.writes,
      errors: s.errors,
      lastError: s.lastError,
      failing: s.failing,
    }));
  }

  /**
   * Stop acting on intents and apply failsafe values where failsafeOnShutdown.
   * Every actuator's outcome is logged (written, already there, failed), so an
   * engineer can confirm from the journal that the heater went off.
   */
  async shutdown(): Promise<void> {
    this.stop();
    await Promise.all(
      [...this.states.values()].map(async (s) => {
        await s.inflight;
        const fs = s.cfg.failsafe;
        if (fs === undefined) return;
        const where = { actuator: s.cfg.id, driver: s.cfg.driver, value: fs };
        if (!s.cfg.failsafeOnShutdown) {
          this.log.info('failsafe on stop: not applied (failsafeOnShutdown: false)', { ...where, current: s.current });
          return;
        }
        if (s.current === fs && !s.failing) {
          this.log.info('failsafe on stop: already at its failsafe value', { ...where, outcome: 'unchanged' });
          return;
        }
        try {
          await this.opts.write(s.cfg.id, s.cfg.target, fs);
          s.current = fs;
          s.writes++;
          s.lastWrite = this.opts.clock.now();
          this.log.info('failsafe on stop: written', { ...where, outcome: 'written' });
        } catch (err) {
          s.errors++;
          s.lastError = errorMessage(err);
          this.log.error('failsafe on stop: write failed', { ...where, outcome: 'failed', err: s.lastError });
        }
      }),
    );
  }

  /** Clear every timer (no failsafe writes; see shutdown()). */
  stop(): void {
    this.running = false;
    for (const s of this.states.values()) {
      this.opts.clock.clearTimeout(s.timer);
      s.timer = undefined;
    }
  }

  private recent(s: ActuatorState): number {
    const cutoff = this.opts.clock.now() - MINUTE;
    while (s.recentWrites.length > 0 && s.recentWrites[0] <= cutoff) s.recentWrites.shift();
    return s.recentWrites.length;
  }

  private reconcile(s: ActuatorState): void {
    let top: Held | undefined;
    for (const h of s.intents.values()) {
      if (!top || RANK[h.owner.priority] > RANK[top.owner.priority] || (h.owner.priority === top.owner.priority && h.seq > top.seq)) top = h;
    }
    s.top = top;
    s.wanted = top ? top.value : (s.cfg.initial ?? s.wanted);
    this.opts.onChange?.(s.cfg.id);
    if (this.batched) this.batched.add(s);
    else {
      this.settleSuperseded(s);
      this.pump(s);
    }
  }

  /** Write the wanted value now, or set a timer for when the gates allow it. */
  private pump(s: ActuatorState): void {
    if (!this.running || s.inflight) return;
    this.opts.clock.clearTimeout(s.timer);
    s.timer = undefined;
    s.deferral = undefined;
    const wanted = s.wanted;
    if (wanted === undefined) return;
    if (wanted === s.current && !s.failing) {
      this.settleWritten(s, wanted);
      return;
    }
    const now = this.opts.clock.now();
    let at = s.retryAt;
    let reason = `retry backoff after a failed write (${s.lastError ?? 'error'})`;
    let why = 'the retry backoff after a failed write';
    const urgent = s.top?.owner.priority === 'failsafe';
    if (!urgent && s.current !== undefined && isOn(s.current) !== isOn(wanted)) {
      const on = isOn(s.current);
      const gate = s.lastSwitch + (on ? s.cfg.minOn : s.cfg.minOff);
      if (gate > at) {
        [at, reason] = [gate, on ? 'minimum on time' : 'minimum off time'];
        why = on ? `minOn ${formatDuration(s.cfg.minOn)}` : `minOff ${formatDuration(s.cfg.minOff)}`;
      }
    }
    if (this.recent(s) >= s.cfg.maxWritesPerMinute && s.recentWrites[0] + MINUTE > at) {
      [at, reason] = [s.recentWrites[0] + MINUTE, `rate limit of ${s.cfg.maxWritesPerMinute} writes per minute`];
      why = reason;
    }
    if (at > now) {
      s.deferral = { at, reason };
      const note = `${String(wanted)} ${why} ${at}`;
      if (this.opts.trace && note !== s.deferNote) {
        s.deferNote = note;
        this.opts.trace({ ts: now, actuator: s.cfg.id, detail: `write of ${String(wanted)} deferred ${formatDuration(at - now)} by ${why}` });
      }
      const top = s.top;
      for (const g of [...(s.watches?.values() ?? [])]) if (top && g.key === top.owner.key && g.value === top.value) for (const w of [...g.watchers]) w.deferred(at, reason);
      s.timer = this.opts.clock.setTimeout(() => {
        s.timer = undefined;
        this.pump(s);
      }, at - now);
      return;
    }
    this.write(s, wanted, now);
  }

  /** Tell watchers whose hold was released, replaced by another value, or outranked by another value. */
  private settleSuperseded(s: ActuatorState): void {
    if (!s.watches?.size) return;
    for (const [id, g] of [...s.watches]) {
      const now = s.intents.get(g.key);
      const replaced = now?.value !== g.value;
      if (!replaced && s.top?.value === g.value) continue;
      s.watches.delete(id);
      for (const w of g.watchers) w.superseded(replaced ? undefined : s.top?.owner.label);
    }
  }

  /** Tell watchers whose held value the actuator now has. */
  private settleWritten(s: ActuatorState, value: ActuatorValue): void {
    if (!s.watches?.size) return;
    for (const [id, g] of [...s.watches]) {
      if (g.value !== value || s.intents.get(g.key)?.value !== value) continue;
      s.watches.delete(id);
      for (const w of g.watchers) w.written(value);
    }
  }

  private write(s: ActuatorState, value: ActuatorValue, now: number): void {
    s.recentWrites.push(now);
    const id = s.cfg.id;
    s.inflight = this.opts.write(id, s.cfg.target, value).then(
      () => {
        const t = this.opts.clock.now();
        if (s.current === undefined || isOn(s.current) !== isOn(value)) s.lastSwitch = t;
        s.current = value;
        s.writes++;
        s.lastWrite = t;
        s.retryAt = 0;
        s.backoff.reset();
        if (s.failing) {
          s.failing = false;
          this.log.info('actuator write recovered', { actuator: id, value });
          this.opts.publishEvent({ ts: t, type: 'actuator.recovered', severity: 'info', source: id, message: `actuator "${id}" writes work again` });
        }
        this.settleWritten(s, value);
        this.opts.onChange?.(id);
      },
      (err: unknown) => {
        const t = this.opts.clock.now();
        s.errors++;
        const msg = errorMessage(err);
        const delay = s.backoff.next();
        s.retryAt = t + delay;
        if (!s.failing || msg !== s.lastError) {
          this.log.error('actuator write failed; retrying with backoff', { actuator: id, value, err: msg, retryInMs: delay });
          this.opts.publishEvent({
            ts: t,
            type: 'actuator.error',
            severity: 'alarm',
            source: id,
            message: `writing ${String(value)} to actuator "${id}" failed: ${msg}`,
            details: { value, errors: s.errors },
          });
        }
        s.failing = true;
        s.lastError = msg;
        for (const g of [...(s.watches?.values() ?? [])]) {
          if (g.value !== value) continue;
          const attempt = ++g.attempts;
          for (const w of [...g.watchers]) if (g.watchers.has(w)) w.failed(err, attempt);
        }
        this.opts.onChange?.(id);
      },
    );
    void s.inflight.then(() => {
      s.inflight = undefined;
      this.pump(s);
    });
  }
}
