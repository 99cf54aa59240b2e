/**
 * Bounds a cloud command must pass before any work that could grow with it:
 * the actuator name (a topic level), the payload size, its JSON nesting depth,
 * and the MQTT 5 response topic and correlation data. Pure functions, no I/O.
 */

/** Longest actuator name accepted in a command topic (config ids are far shorter in practice). */
export const MAX_ACTUATOR_NAME = 128;
/** Largest command payload; a command is {"id","value","expiresAt"} and needs far less. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;
/** Deepest JSON nesting accepted: the command object is level 1 and values are scalars. */
export const MAX_JSON_DEPTH = 4;
/** Largest MQTT 5 correlation data echoed back with a result. */
export const MAX_CORRELATION_BYTES = 1024;
/** Longest MQTT 5 response topic accepted. */
export const MAX_RESPONSE_TOPIC = 256;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of objects and arrays in `bytes` (read as JSON text),
 * scanning once and stopping as soon as `limit` is exceeded. Brackets inside
 * strings do not count. Malformed text is left to JSON.parse.
 */
export function jsonDepthExceeds(bytes: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** Whether an MQTT topic matches a subscription-style filter (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export interface ResponseTopicPolicy {
  /** Filters a response topic must match (MQTT wildcards). */
  allowed: readonly string[];
  /** This gateway's command topics; never a response topic (a result would come back as a command). */
  commandFilter: string;
}

/** Why a response topic named by the sender is refused, or undefined when it may be used. */
export function responseTopicProblem(topic: string, policy: ResponseTopicPolicy): string | undefined {
  if (topic.length === 0) return 'response topic is empty';
  if (topic.length > MAX_RESPONSE_TOPIC) return `response topic too long (${topic.length} characters; limit ${MAX_RESPONSE_TOPIC})`;
  const shown = JSON.stringify(topic.length > 80 ? topic.slice(0, 80) + '…' : topic);
  if (/[+#]/.test(topic) || topic.includes('\u0000')) return `response topic ${shown} contains a wildcard or NUL`;
  if (topicMatches(policy.commandFilter, topic)) return `response topic ${shown} is one of this gateway's command topics`;
  if (!policy.allowed.some((f) => topicMatches(f, topic))) return `response topic ${shown} is not allowed (allowed: ${policy.allowed.join(', ')})`;
  return undefined;
}
