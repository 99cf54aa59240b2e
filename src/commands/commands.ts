import type { Arbiter, Owner } from '../arbiter/arbiter';
import type { ActuatorValue } from '../arbiter/validate';
import type { ActuatorConfig } from '../config/actuator';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { TargetValue } from '../../drivers/driver';
import { jsonDepthExceeds, MAX_ACTUATOR_NAME, MAX_CORRELATION_BYTES, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, responseTopicProblem, type ResponseTopicPolicy } from './bounds';
import { CommandLog, UNKNOWN_FINGERPRINT } from './command-log';
import { isPermanentWriteError, MinuteBudget } from './limits';
import type { CommandResult } from './result';
import { commandsSchema, type CommandsConfig } from './schema';

export type { CommandResult } from './result';
export { MAX_PAYLOAD_BYTES } from './bounds';

/**
 * Cloud and local commands to actuators. A cloud command arrives on
 * `.../cmd/<actuator>` as JSON `{"id", "value", "expiresAt"?}` (or
 * `{"id", "release": true}`); its results (see result.ts) go out through
 * `publishResult`, on `.../cmd/<actuator>/result` or an allowed MQTT 5 response
 * topic with the correlation data.
 *
 *   bounds (name, size, response topic, correlation data, depth) ─► JSON, id
 *     ─► actuator exists and is cloud-controllable ─► per-actuator rate
 *        (rejections so far are answered within a budget, never remembered)
 *     ─► seen id? duplicate (same command) or conflict (different one)
 *     ─► fields, expiry, value against the actuator and its target's encoding
 *     ─► arbiter hold ─► watched to the driver's answer ─► final result
 *        (remembered in the command log, batched)
 *
 * Local commands (`fieldgate actuate`) hold with their own key and, unless the
 * actuator sets cloudOverridesLocal, outrank cloud commands.
 */
export interface CommandMeta {
  responseTopic?: string;
  correlationData?: Buffer;
  /**
   * Delivered as a retained message (the broker's desired state for the actuator,
   * sent on every subscribe): reconciled instead of answered from the log.
   */
  retained?: boolean;
}

export type CommandSource = 'cloud' | 'local';

export interface CommandHandlerOptions {
  arbiter: Pick<Arbiter, 'hold' | 'release' | 'holding' | 'releaseUnwritten' | 'watch' | 'deferred' | 'config' | 'status'>;
  clock: Clock;
  log: Logger;
  publishResult: (actuator: string, result: CommandResult, meta: CommandMeta) => void;
  /** Remembered ids (exactly once); defaults to an in-memory log. */
  commandLog?: CommandLog;
  config?: Partial<CommandsConfig>;
  /** Where response topics may point; default: anything (tests). The daemon passes its own base and config. */
  responseTopics?: ResponseTopicPolicy;
  /** What an actuator's target really holds for a value (the driver kind's targetValue). */
  targetValue?: (actuator: ActuatorConfig, value: number | boolean) => TargetValue | undefined;
}

const KNOWN_FIELDS = new Set(['id', 'value', 'expiresAt', 'release']);
const CLOUD_KEY = 'command';
const LOCAL_KEY = 'local';

export class CommandHandler {
  private readonly log: Logger;
  private readonly commandLog: CommandLog;
  private readonly cfg: CommandsConfig;
  private readonly perActuator = new Map<string, MinuteBudget>();
  private readonly answers: MinuteBudget;
  private seq = 0;
  /** Commands followed to a final result that has not come yet: each ends its own ("the gateway stopped"). */
  private readonly unfinished = new Set<() => void>();
  /** Counts for health: every command lands in exactly one of these (pending ones later in a final one). */
  readonly counts = { applied: 0, released: 0, rejected: 0, failed: 0, superseded: 0, duplicates: 0, conflicts: 0, rateLimited: 0, dropped: 0 };

  constructor(private readonly opts: CommandHandlerOptions) {
    this.log = opts.log.child({ component: 'commands' });
    this.cfg = { ...commandsSchema.parse({}), ...opts.config };
    this.commandLog = opts.commandLog ?? new CommandLog({ clock: opts.clock, log: this.log, window: this.cfg.dedupWindow });
    this.answers = new MinuteBudget(this.cfg.maxRejectionsPerMinute);
  }

  /** A cloud command. Results are published (now, or when the write is answered). */
  handleCommand(actuator: string, payload: Buffer | string, meta: CommandMeta, source: CommandSource = 'cloud'): void {
    if (actuator.length > MAX_ACTUATOR_NAME) return this.drop(`actuator name of ${actuator.length} characters (limit ${MAX_ACTUATOR_NAME})`);
    const bad = this.metaProblem(meta);
    if (bad) return this.refuse(actuator, '', bad, {});
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (bytes.length > MAX_PAYLOAD_BYTES) return this.refuse(actuator, '', `payload too large (${bytes.length} bytes; limit ${MAX_PAYLOAD_BYTES})`, meta);
    if (jsonDepthExceeds(bytes, MAX_JSON_DEPTH)) return this.refuse(actuator, '', `payload nested deeper than ${MAX_JSON_DEPTH} levels`, meta);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      return this.refuse(actuator, '', `malformed JSON: ${errorMessage(err)}`, meta);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return this.refuse(actuator, '', 'payload must be a JSON object {"id", "value"}', meta);
    const fields = body as Record<string, unknown>;
    const id = Object.hasOwn(fields, 'id') ? fields.id : undefined;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
      return this.refuse(actuator, '', id === undefined ? 'missing id' : 'id must be a non-empty string of at most 128 characters', meta);
    }
    const cfg = this.opts.arbiter.config(actuator);
    if (!cfg) return this.refuse(actuator, id, `unknown actuator "${actuator}"`, meta);
    if (source === 'cloud' && !cfg.cloud) return this.refuse(actuator, id, `actuator "${actuator}" is not cloud-controllable (cloud: false)`, meta);
    const fingerprint = fingerprintOf(fields);
    const seen = this.commandLog.get(actuator, id);
    if (seen && meta.retained && seen.fingerprint === fingerprint && fields.value !== undefined && seen.result.final) {
      return this.reconcile(cfg, id, fields, meta);
    }
    if (seen) return this.answerSeen(actuator, id, seen.fingerprint === fingerprint || seen.fingerprint === UNKNOWN_FINGERPRINT, seen.result, meta);
    let budget = this.perActuator.get(actuator);
    if (!budget) this.perActuator.set(actuator, (budget = new MinuteBudget(this.cfg.maxPerMinute)));
    if (!budget.take(this.opts.clock.now())) {
      this.counts.rateLimited++;
      return this.refuse(actuator, id, `too many commands: at most ${this.cfg.maxPerMinute} per minute to "${actuator}" (not applied; send it again later)`, meta);
    }
    const firstSeen = this.opts.clock.now();
    const remember = (r: CommandResult) => this.commandLog.remember(actuator, id, { firstSeen, fingerprint, result: r });
    // Remembered before it is applied: a redelivery while the write is under way is a duplicate too.
    remember({ id, status: 'pending', final: false, ts: firstSeen });
    this.execute(cfg, id, fields, 'cloud', (r) => {
      remember(r);
      this.publish(actuator, r, meta);
    });
  }

  /** A local command (CLI `fieldgate actuate`): the same checks except the cloud flag; resolves with the first result. */
  actuate(actuator: string, value: unknown): Promise<CommandResult> {
    const id = `local-${this.opts.clock.now()}-${++this.seq}`;
    const cfg = this.opts.arbiter.config(actuator);
    if (!cfg) return Promise.resolve(this.rejected(id, `unknown actuator "${actuator}"`));
    return new Promise((resolve) => this.execute(cfg, id, { id, value }, 'local', resolve));
  }

  /** Release the hold set on site (CLI `fieldgate actuate ACTUATOR --release`). */
  releaseLocal(actuator: string): CommandResult {
    const id = `local-${this.opts.clock.now()}-${++this.seq}`;
    const cfg = this.opts.arbiter.config(actuator);
    if (!cfg) return this.rejected(id, `unknown actuator "${actuator}"`);
    return this.released(id, actuator, LOCAL_KEY);
  }

  /**
   * Daemon stop, after the arbiter's shutdown: every command still waiting (a
   * gate deferred it) gets its final result, then the command log's waiting
   * ids are written and it is closed.
   */
  close(): void {
    for (const end of [...this.unfinished]) end();
    this.commandLog.close();
  }

  /** Validate, hold and follow one well-formed command; `emit` gets every result (pending, then final). */
  private execute(cfg: ActuatorConfig, id: string, fields: Record<string, unknown>, source: CommandSource, emit: (r: CommandResult) => void): void {
    const unknown = Object.keys(fields).filter((k) => !KNOWN_FIELDS.has(k));
    if (unknown.length > 0) return emit(this.rejected(id, `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected id, value, expiresAt, release`));
    const expiresAt = fields.expiresAt;
    const now = this.opts.clock.now();
    if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) return emit(this.rejected(id, 'expiresAt must be epoch milliseconds'));
    if (typeof expiresAt === 'number' && expiresAt < now) return emit(this.rejected(id, `expired (expiresAt ${new Date(expiresAt).toISOString()} is ${now - expiresAt} ms in the past)`));
    const key = source === 'cloud' ? CLOUD_KEY : LOCAL_KEY;
    if (fields.release !== undefined) {
      if (fields.release !== true || fields.value !== undefined) return emit(this.rejected(id, 'release must be true and comes without a value'));
      return emit(this.released(id, cfg.id, key));
    }
    if (fields.value === undefined) return emit(this.rejected(id, 'missing value'));
    let value = fields.value as ActuatorValue;
    if (typeof value === 'number' || typeof value === 'boolean') {
      const tv = this.opts.targetValue?.(cfg, value);
      if (tv && 'error' in tv) return emit(this.rejected(id, `${tv.error}; not written`));
      if (tv?.rounded && !cfg.round) {
        return emit(this.rejected(id, `${String(value)} cannot be written exactly to actuator "${cfg.id}" (its target would hold ${String(tv.value)}); send ${String(tv.value)}, or set round: true on the actuator`));
      }
      if (tv) value = tv.value;
    }
    const priority = source === 'local' && !cfg.cloudOverridesLocal ? 'local' : 'command';
    const owner: Owner = { key, label: `${source === 'cloud' ? 'cmd' : 'local'}:${id}`, priority };
    const res = this.opts.arbiter.hold(cfg.id, owner, value);
    if (!res.ok) return emit(this.rejected(id, res.error ?? 'refused'));
    this.follow(cfg.id, id, key, source, typeof expiresAt === 'number' ? expiresAt : undefined, emit);
  }

  /** Turn the arbiter's account of the hold into results: pending while deferred, then one final result. */
  private follow(actuator: string, id: string, key: string, source: CommandSource, expiresAt: number | undefined, emit: (r: CommandResult) => void): void {
    let pendingSent = false;
    let unwatch = () => {};
    let expiry: TimerHandle | undefined;
    const stop = () => {
      unwatch();
      this.opts.clock.clearTimeout(expiry);
      this.unfinished.delete(stopped);
    };
    let finished = false;
    const finish = (r: CommandResult) => {
      if (finished) return;
      finished = true;
      stop();
      // Applied commands are on record in their result and commands.db; a log line each would be
      // per-command I/O on the event loop under a burst. What went wrong is logged.
      if (r.status === 'applied') this.log.debug('command applied', { actuator, id, source, applied: r.applied });
      else this.log.info('command not applied', { actuator, id, source, status: r.status, error: r.error });
      emit(r);
    };
    // A hold that outlives its expiresAt while a gate defers it is dropped, never written late.
    const expire = (reason: string) => {
      if (finished || !this.opts.arbiter.deferred(actuator)) return;
      this.counts.failed++;
      stop();
      this.opts.arbiter.releaseUnwritten(actuator, key);
      finish({ id, ok: false, status: 'failed', final: true, error: `not written: expired at ${new Date(expiresAt ?? 0).toISOString()} while waiting for the ${reason}`, ...this.owner(actuator), ts: this.opts.clock.now() });
    };
    const stopped = () => {
      this.counts.superseded++;
      finish({ id, ok: false, status: 'superseded', final: true, error: 'not written: the gateway stopped', ts: this.opts.clock.now() });
    };
    this.unfinished.add(stopped);
    unwatch = this.opts.arbiter.watch(actuator, key, {
      deferred: (at, reason) => {
        if (finished) return;
        this.opts.clock.clearTimeout(expiry);
        if (expiresAt !== undefined && at > expiresAt) {
          const now = this.opts.clock.now();
          if (now > expiresAt) return expire(reason);
          // the first instant the command is expired (it is still valid at expiresAt itself)
          expiry = this.opts.clock.setTimeout(() => expire(reason), expiresAt - now + 1);
        }
        if (pendingSent) return;
        pendingSent = true;
        emit({ id, status: 'pending', final: false, error: `waiting for the ${reason} (writes at ${new Date(at).toISOString()})`, writesAt: at, ...this.owner(actuator), ts: this.opts.clock.now() });
      },
      written: (value) => {
        this.counts.applied++;
        finish({ id, ok: true, status: 'applied', final: true, applied: value, ...this.owner(actuator), ts: this.opts.clock.now() });
      },
      failed: (err, attempt) => {
        const permanent = isPermanentWriteError(err);
        if (!permanent && attempt < this.cfg.writeAttempts) return;
        this.counts.failed++;
        stop();
        this.opts.arbiter.releaseUnwritten(actuator, key);
        finish({ id, ok: false, status: 'failed', final: true, error: `write failed${permanent ? '' : ` ${attempt} times`}: ${errorMessage(err)}`, ...this.owner(actuator), ts: this.opts.clock.now() });
      },
      superseded: (by) => {
        this.counts.superseded++;
        const error = by ? `not written: ${by} took the actuator first` : 'not written: replaced or released before the write';
        finish({ id, ok: false, status: 'superseded', final: true, error, ...this.owner(actuator), ts: this.opts.clock.now() });
      },
    });
  }

  private released(id: string, actuator: string, key: string): CommandResult {
    if (!this.opts.arbiter.holding(actuator, key)) return this.rejected(id, `nothing to release: "${actuator}" has no ${key === LOCAL_KEY ? 'local' : 'cloud'} hold`);
    this.opts.arbiter.release(actuator, key);
    this.counts.released++;
    const s = this.opts.arbiter.status().find((x) => x.id === actuator);
    const r: CommandResult = { id, ok: true, status: 'released', final: true, ts: this.opts.clock.now() };
    if (s?.value !== undefined) r.applied = s.value;
    if (s?.owner) r.owner = s.owner;
    return r;
  }

  /**
   * A retained command seen before arrives again (a reconnect, a lost session, a
   * restart): it is the desired state. Equal to what the actuator holds: answered
   * with the current truth, not re-applied. Different (the actuator went back to
   * its initial value after a restart, a rule moved it): applied again, through
   * the arbiter's priorities and the command's expiry, and answered as a new one.
   */
  private reconcile(cfg: ActuatorConfig, id: string, fields: Record<string, unknown>, meta: CommandMeta): void {
    const now = this.opts.clock.now();
    const current = this.opts.arbiter.status().find((a) => a.id === cfg.id);
    if (current && !current.failing && current.value === fields.value && current.wanted === fields.value) {
      this.counts.duplicates++;
      return this.publish(cfg.id, { id, ok: true, status: 'applied', final: true, applied: current.value, owner: current.owner, duplicate: true, ts: now }, meta);
    }
    this.log.info('retained command differs from the actuator: applying it again (desired state)', { actuator: cfg.id, id, value: fields.value, current: current?.value });
    this.execute(cfg, id, fields, 'cloud', (r) => {
      this.commandLog.remember(cfg.id, id, { firstSeen: now, fingerprint: fingerprintOf(fields), result: r });
      this.publish(cfg.id, r, meta);
    });
  }

  private answerSeen(actuator: string, id: string, same: boolean, result: CommandResult, meta: CommandMeta): void {
    if (!same) {
      this.counts.conflicts++;
      return this.publish(actuator, { ...this.rejected(id, `conflict: id "${id}" was already used for a different command to "${actuator}"; use a new id`), duplicate: true }, meta);
    }
    this.counts.duplicates++;
    this.log.info('duplicate command id: answered again, not re-applied', { actuator, id });
    this.publish(actuator, { ...result, duplicate: true }, meta);
  }

  private metaProblem(meta: CommandMeta): string | undefined {
    if (meta.correlationData && meta.correlationData.length > MAX_CORRELATION_BYTES) {
      return `correlation data too large (${meta.correlationData.length} bytes; limit ${MAX_CORRELATION_BYTES})`;
    }
    if (meta.responseTopic !== undefined && this.opts.responseTopics) return responseTopicProblem(meta.responseTopic, this.opts.responseTopics);
    return undefined;
  }

  /** Answer a command that is never remembered (malformed, unknown actuator, rate limited), within the answer budget. */
  private refuse(actuator: string, id: string, error: string, meta: CommandMeta): void {
    if (!this.answers.take(this.opts.clock.now())) return this.drop(`rejection answers over ${this.cfg.maxRejectionsPerMinute} per minute`);
    this.publish(actuator, this.rejected(id, error), meta);
  }

  private drop(why: string): void {
    this.counts.dropped++;
    if (this.counts.dropped === 1 || this.counts.dropped % 1000 === 0) this.log.warn('command dropped unanswered', { why, dropped: this.counts.dropped });
  }

  private rejected(id: string, error: string): CommandResult {
    this.counts.rejected++;
    this.log.debug('command rejected', { id, error });
    return { id, ok: false, status: 'rejected', final: true, error, ts: this.opts.clock.now() };
  }

  /** `{owner}` of the actuator now, or nothing when no one holds it. */
  private owner(actuator: string): { owner?: string } {
    const owner = this.opts.arbiter.status().find((s) => s.id === actuator)?.owner;
    return owner === undefined ? {} : { owner };
  }

  private publish(actuator: string, result: CommandResult, meta: CommandMeta): void {
    try {
      this.opts.publishResult(actuator, result, meta);
    } catch (err) {
      this.log.error('publishing a command result failed', { actuator, id: result.id, err: errorMessage(err) });
    }
  }
}

/** What a command asks for, to tell a redelivery from a different command reusing an id. */
function fingerprintOf(fields: Record<string, unknown>): string {
  return JSON.stringify([fields.value, fields.release, fields.expiresAt]);
}
