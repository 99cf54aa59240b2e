import type { Clock } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { jsonDepthExceeds, MAX_CORRELATION_BYTES, MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, responseTopicProblem, topicMatches, type ResponseTopicPolicy } from './bounds';
import { MinuteBudget } from './limits';

/**
 * Requests from the cloud on `<prefix>/<gw>/req/<name>`, answered on
 * `<prefix>/<gw>/req/<name>/result` (or an allowed MQTT 5 response topic, with
 * the correlation data). The same door as commands: payload size and depth
 * checked before parsing, an id of at most 128 characters, a rate limit, and
 * a repeated id answered with the first answer (a QoS 1 redelivery), not run
 * again.
 *
 *   {"id": "r1", ...params}  ──►  {"id": "r1", "ok": true, "result": {...}, "ts": ...}
 *                                 {"id": "r1", "ok": false, "error": "...", "ts": ...}
 */
export interface RequestResult {
  id: string;
  ok: boolean;
  result?: unknown;
  error?: string;
  /** Every problem behind a refusal (FILE:LINE:COL: message), when there are several. */
  problems?: string[];
  duplicate?: true;
  ts: number;
}

export interface RequestMeta {
  responseTopic?: string;
  correlationData?: Buffer;
}

/** One request kind: validates its own params (throwing a message for the sender) and answers. */
export type RequestKind = (params: Record<string, unknown>, id: string) => unknown;

export interface RequestHandlerOptions {
  clock: Clock;
  log: Logger;
  kinds: Readonly<Record<string, RequestKind>>;
  publish: (name: string, result: RequestResult, meta: RequestMeta) => void;
  responseTopics: ResponseTopicPolicy & { requestFilter: string };
  /** Requests answered per minute at most (default 120); the rest are dropped and counted. */
  maxPerMinute?: number;
  /** A larger payload limit for some requests (e.g. deploy bundles), by name; MAX_PAYLOAD_BYTES otherwise. */
  maxPayloadBytes?: Readonly<Record<string, number>>;
}

/** A refusal that carries its problems (FILE:LINE:COL) to the sender besides the message. */
export class RequestRefused extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
  }
}

const refusal = (err: unknown) => (err instanceof RequestRefused ? { problems: err.problems } : {});

const MAX_NAME = 64;
const REMEMBER = 1000;

export class RequestHandler {
  readonly counts = { answered: 0, failed: 0, duplicates: 0, dropped: 0 };
  private readonly budget: MinuteBudget;
  /** Answers by id, oldest first (a Map keeps insertion order), at most REMEMBER. */
  private readonly answered = new Map<string, RequestResult>();

  constructor(private readonly opts: RequestHandlerOptions) {
    this.budget = new MinuteBudget(opts.maxPerMinute ?? 120);
  }

  handle(name: string, payload: Buffer, meta: RequestMeta): void {
    const now = this.opts.clock.now();
    if (name.length > MAX_NAME || !this.budget.take(now)) {
      this.counts.dropped++;
      return;
    }
    const topicProblem = this.responseProblem(meta);
    // A response topic we may not use is answered on the default result topic instead.
    const to: RequestMeta = topicProblem ? {} : meta;
    const fail = (id: string, error: string) => this.answer(name, { id, ok: false, error, ts: now }, to);
    if (topicProblem) return fail('', topicProblem);
    const limit = (Object.hasOwn(this.opts.maxPayloadBytes ?? {}, name) ? this.opts.maxPayloadBytes?.[name] : undefined) ?? MAX_PAYLOAD_BYTES;
    if (payload.length > limit) return fail('', `payload too large (${payload.length} bytes; limit ${limit})`);
    if (jsonDepthExceeds(payload, MAX_JSON_DEPTH)) return fail('', `payload nested deeper than ${MAX_JSON_DEPTH} levels`);
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      return fail('', `malformed JSON: ${errorMessage(err)}`);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail('', 'payload must be a JSON object {"id", ...}');
    const { id, ...params } = body as Record<string, unknown>;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return fail('', id === undefined ? 'missing id' : 'id must be a non-empty string of at most 128 characters');
    const key = `${name}\u0000${id}`;
    const seen = this.answered.get(key);
    if (seen) {
      this.counts.duplicates++;
      return this.opts.publish(name, { ...seen, duplicate: true }, to);
    }
    const kind = Object.hasOwn(this.opts.kinds, name) ? this.opts.kinds[name] : undefined;
    if (!kind) return fail(id, `unknown request "${name}"; requests: ${Object.keys(this.opts.kinds).join(', ')}`);
    let out: unknown;
    try {
      out = kind(params, id);
    } catch (err) {
      return this.remember(key, name, { id, ok: false, error: errorMessage(err), ...refusal(err), ts: now }, to);
    }
    if (out instanceof Promise) {
      out.then(
        (result: unknown) => this.remember(key, name, { id, ok: true, result, ts: this.opts.clock.now() }, to),
        (err: unknown) => this.remember(key, name, { id, ok: false, error: errorMessage(err), ...refusal(err), ts: this.opts.clock.now() }, to),
      );
    } else this.remember(key, name, { id, ok: true, result: out, ts: now }, to);
  }

  private remember(key: string, name: string, r: RequestResult, meta: RequestMeta): void {
    this.answered.set(key, r);
    if (this.answered.size > REMEMBER) this.answered.delete(this.answered.keys().next().value as string);
    this.answer(name, r, meta);
  }

  private answer(name: string, r: RequestResult, meta: RequestMeta): void {
    if (r.ok) this.counts.answered++;
    else this.counts.failed++;
    this.opts.publish(name, r, meta);
  }

  private responseProblem(meta: RequestMeta): string | undefined {
    if (meta.correlationData && meta.correlationData.length > MAX_CORRELATION_BYTES) return `correlation data too large (${meta.correlationData.length} bytes)`;
    const t = meta.responseTopic;
    if (t === undefined) return undefined;
    if (topicMatches(this.opts.responseTopics.requestFilter, t)) return `response topic ${JSON.stringify(t)} is one of this gateway's request topics`;
    return responseTopicProblem(t, this.opts.responseTopics);
  }
}

/** An integer parameter within [min, max], or the default; throws a message for the sender otherwise. */
export function intParam(params: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const v = params[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${key} must be an integer from ${min} to ${max}`);
  return v;
}

/** Refuse parameters a request does not know (a typo would otherwise be ignored silently). */
export function onlyParams(params: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(params).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`unknown parameter(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}${known.length ? `; expected ${known.join(', ')}` : ''}`);
}
