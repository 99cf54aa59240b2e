import type { Arbiter, Owner } from '../arbiter/arbiter';
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { CommandLog } from './command-log';

/**
 * Cloud and local commands to actuators. A cloud command arrives on
 * `.../cmd/<actuator>` as JSON `{"id", "value", "expiresAt"?}` (or
 * `{"id", "release": true}` to hand the actuator back to the rules); the result
 * `{"id", "ok", "error"?, "applied"?, "ts"}` goes out through `publishResult`
 * (the uplink publishes it on `.../cmd/<actuator>/result`, or on the MQTT 5
 * response topic with the correlation data when given).
 *
 * Checks, in order: size, JSON, object, id, duplicate id (answered from the
 * command log, never re-applied), unknown fields, actuator exists, cloud
 * allowed, expiry, value — then the arbiter (range, interlock, rate limit).
 */
export interface CommandResult {
  id: string;
  ok: boolean;
  error?: string;
  applied?: boolean | number;
  ts: number;
}

export interface CommandMeta {
  responseTopic?: string;
  correlationData?: Buffer;
}

export type CommandSource = 'cloud' | 'local';

export interface CommandHandlerOptions {
  arbiter: Pick<Arbiter, 'hold' | 'release' | 'config' | 'status'>;
  clock: Clock;
  log: Logger;
  publishResult: (actuator: string, result: CommandResult, meta: CommandMeta) => void;
  /** Remembered results (exactly-once); defaults to an in-memory log of 1000 ids. */
  commandLog?: CommandLog;
}

export const MAX_PAYLOAD_BYTES = 16 * 1024;
const KNOWN_FIELDS = new Set(['id', 'value', 'expiresAt', 'release']);
const COMMAND_KEY = 'command';

export class CommandHandler {
  private readonly log: Logger;
  private readonly commandLog: CommandLog;
  private seq = 0;
  /** Counts of accepted and rejected commands (health). */
  readonly counts = { accepted: 0, rejected: 0, duplicates: 0 };

  constructor(private readonly opts: CommandHandlerOptions) {
    this.log = opts.log.child({ component: 'commands' });
    this.commandLog = opts.commandLog ?? new CommandLog({ log: this.log });
  }

  handleCommand(actuator: string, payload: Buffer | string, meta: CommandMeta, source: CommandSource): CommandResult {
    const result = this.evaluate(actuator, payload, source);
    try {
      this.opts.publishResult(actuator, result, meta);
    } catch (err) {
      this.log.error('publishing a command result failed', { actuator, id: result.id, err: String(err) });
    }
    return result;
  }

  /** A local command (CLI `fieldgate actuate`), through the same checks except the cloud flag. */
  actuate(actuator: string, value: unknown): CommandResult {
    const id = `local-${this.opts.clock.now()}-${++this.seq}`;
    return this.apply(actuator, id, { id, value }, 'local');
  }

  private evaluate(actuator: string, payload: Buffer | string, source: CommandSource): CommandResult {
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size > MAX_PAYLOAD_BYTES) return this.reject('', `payload too large (${size} bytes; limit ${MAX_PAYLOAD_BYTES})`);
    let body: unknown;
    try {
      body = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    } catch (err) {
      return this.reject('', `malformed JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return this.reject('', 'payload must be a JSON object {"id", "value"}');
    const fields = body as Record<string, unknown>;
    const id = Object.prototype.hasOwnProperty.call(fields, 'id') ? fields.id : undefined;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) {
      return this.reject('', id === undefined ? 'missing id' : 'id must be a non-empty string of at most 128 characters');
    }
    const seen = this.commandLog.get(actuator, id);
    if (seen) {
      this.counts.duplicates++;
      this.log.info('duplicate command id: answered again, not re-applied', { actuator, id });
      return seen;
    }
    const result = this.apply(actuator, id, fields, source);
    this.commandLog.remember(actuator, result);
    return result;
  }

  private apply(actuator: string, id: string, fields: Record<string, unknown>, source: CommandSource): CommandResult {
    const unknown = Object.keys(fields).filter((k) => !KNOWN_FIELDS.has(k));
    if (unknown.length > 0) return this.reject(id, `unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected id, value, expiresAt`);
    const cfg = this.opts.arbiter.config(actuator);
    if (!cfg) return this.reject(id, `unknown actuator "${actuator}"`);
    if (source === 'cloud' && !cfg.cloud) return this.reject(id, `actuator "${actuator}" is not cloud-controllable (cloud: false)`);
    const expiresAt = fields.expiresAt;
    const now = this.opts.clock.now();
    if (expiresAt !== undefined && (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))) return this.reject(id, 'expiresAt must be epoch milliseconds');
    if (typeof expiresAt === 'number' && expiresAt < now) return this.reject(id, `expired (expiresAt ${new Date(expiresAt).toISOString()} is ${now - expiresAt} ms in the past)`);
    if (fields.release !== undefined) {
      if (fields.release !== true || fields.value !== undefined) return this.reject(id, 'release must be true and comes without a value');
      this.opts.arbiter.release(actuator, COMMAND_KEY);
      return this.accept(id, actuator, this.opts.arbiter.status().find((s) => s.id === actuator)?.wanted, source);
    }
    if (fields.value === undefined) return this.reject(id, 'missing value');
    const owner: Owner = { key: COMMAND_KEY, label: `${source === 'cloud' ? 'cmd' : 'local'}:${id}`, priority: 'command' };
    const res = this.opts.arbiter.hold(actuator, owner, fields.value as boolean | number);
    if (!res.ok) return this.reject(id, res.error ?? 'refused');
    return this.accept(id, actuator, res.applied, source);
  }

  private accept(id: string, actuator: string, applied: boolean | number | undefined, source: CommandSource): CommandResult {
    this.counts.accepted++;
    this.log.info('command applied', { actuator, id, applied, source });
    const r: CommandResult = { id, ok: true, ts: this.opts.clock.now() };
    if (applied !== undefined) r.applied = applied;
    return r;
  }

  private reject(id: string, error: string): CommandResult {
    this.counts.rejected++;
    this.log.debug('command rejected', { id, error });
    return { id, ok: false, error, ts: this.opts.clock.now() };
  }
}
