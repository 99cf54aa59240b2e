/**
 * Structured JSON logs, one object per line on stdout (journald keeps them as
 * the MESSAGE field). Fields whose key names a secret are replaced by "[redacted]"
 * at any depth, so a config object can be logged safely.
 *
 * When stdout is the journal, each line starts with the syslog priority prefix of
 * sd-daemon(3) ("<3>" error, "<4>" warn, "<6>" info, "<7>" debug): journald strips
 * it and stores PRIORITY=, so `journalctl -p err` and priority-based alerting work.
 */
import * as fs from 'node:fs';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

/** sd-daemon(3) / syslog(3) priorities: LOG_ERR 3, LOG_WARNING 4, LOG_INFO 6, LOG_DEBUG 7. */
export const JOURNAL_PRIORITY = { error: 3, warn: 4, info: 6, debug: 7 } as const;

/**
 * Whether file descriptor `fd` is the journal stream systemd connected it to:
 * systemd sets JOURNAL_STREAM=<device>:<inode> of that stream (systemd.exec(5)),
 * which is compared with fstat(fd) so a redirected or piped stdout is not taken for it.
 */
export function isJournalStream(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fs.fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]) && st.ino === BigInt(m[2]);
  } catch {
    return false; // fd closed: nothing is written there anyway
  }
}

/**
 * Prefix every line written through `write` with `<priority>` (for stderr in the
 * journal, where everything written is an error). Chunks may end mid-line.
 */
export function prefixLines(priority: number, write: (text: string) => void): (text: string) => void {
  const prefix = `<${priority}>`;
  let atLineStart = true;
  return (text) => {
    if (text === '') return;
    // Every newline that is followed by more text starts a new prefixed line.
    write((atLineStart ? prefix : '') + text.replace(/\n(?=.)/gs, `\n${prefix}`));
    atLineStart = text.endsWith('\n');
  };
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. {component: 'uplink'}). */
  child(fields: LogFields): Logger;
  isEnabled(level: LogLevel): boolean;
}

const SECRET_KEY = /^(password|passphrase|secret|token|key|privateKey|networkKey|bindkey|apiKey|authorization)$/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as NodeJS.ErrnoException).code };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to process.stdout. */
  write?: (line: string) => void;
  now?: () => number;
  /** Start each line with its journald priority prefix (see isJournalStream). */
  journalPriority?: boolean;
  /** Also keep each line (without the prefix) in this ring, for `req/logs`. */
  keep?: { push(level: Exclude<LogLevel, 'silent'>, line: string): void };
}

export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const now = opts.now ?? Date.now;
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const rec = { ts: new Date(now()).toISOString(), level, msg, ...base, ...(fields ? (redact(fields) as LogFields) : {}) };
    const prefix = opts.journalPriority ? `<${JOURNAL_PRIORITY[level]}>` : '';
    const line = JSON.stringify(rec);
    opts.keep?.push(level, line);
    write(prefix + line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...base, ...(redact(fields) as LogFields) }),
    isEnabled: (level) => RANK[level] >= min,
  };
}

/** A logger that drops everything (tests that do not inspect logs). */
export const silentLogger: Logger = createLogger({ level: 'silent' });

/** A logger that records lines in memory, for tests that assert on logs. */
export function memoryLogger(level: LogLevel = 'debug'): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const log = createLogger({ level, write: (l) => lines.push(JSON.parse(l) as LogFields) });
  return Object.assign(log, { lines });
}

/** Error message from anything thrown. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
