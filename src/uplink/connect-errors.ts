/**
 * What went wrong with a connection, in words an operator can act on, logged once per
 * change (a broker that stays down is one warn line, then debug), and how to classify it:
 * never reached (back off at most backoff.maxUnreachable), or hung up after connecting
 * (a broker that cannot parse an MQTT 5 CONNECT).
 */
import { errorMessage, type Logger } from '../core/logger';

/** Socket errors of a broker that cannot be reached at all (nothing answered). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EADDRNOTAVAIL']);

export function unreachable(code: string | undefined): boolean {
  return code !== undefined && UNREACHABLE.has(code);
}

/**
 * True when the transport was up and the broker hung up before CONNACK: no socket error
 * (an orderly close) or a reset/broken pipe. A broker that is down or unreachable fails
 * with ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENOTFOUND…, and a TLS failure with its own code.
 */
export function hungUpAfterConnect(code: string | undefined): boolean {
  return code === undefined || code === 'ECONNRESET' || code === 'EPIPE';
}

export class ConnectErrors {
  /** The last error, for stats().lastError. */
  last: string | null = null;
  /** Error code (or message) of the last error; null once a connection succeeded. */
  private key: string | null = null;
  /** Key last logged at warn, so a repeating failure is logged once. */
  private loggedKey: string | null = null;

  constructor(private readonly log: Logger) {}

  note(err: unknown): void {
    // OpenSSL errors carry a long raw message (library path, source line); its
    // `reason` and `code` say the same thing in words an operator can act on.
    const { reason, code } = err as { reason?: unknown; code?: unknown };
    this.last = typeof reason === 'string' && typeof code === 'string' && code.startsWith('ERR_SSL') ? `${reason} (${code})` : errorMessage(err);
    this.key = code !== undefined ? String(code) : this.last;
  }

  /** Connected: the next failure is news again. */
  connected(): void {
    this.key = null;
    this.loggedKey = null;
  }

  /** Log a failure at warn when the error changed since last logged, at debug otherwise. */
  logOnce(msg: string, broker: string): void {
    const error = this.key === null ? 'connection closed' : (this.last ?? 'connection closed');
    const key = this.key ?? error;
    if (key !== this.loggedKey) this.log.warn(msg, { broker, error });
    else this.log.debug(msg, { broker, error });
    this.loggedKey = key;
  }
}
