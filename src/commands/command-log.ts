import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { CommandResult } from './result';

/**
 * The ids of recent cloud commands, per actuator, with what each asked for
 * (a fingerprint) and its latest result, so that a redelivered command (QoS 1,
 * a retry, a broker session replayed after a restart) is answered again and
 * never applied twice.
 *
 * The horizon is a time window (`window`, at least the MQTT session expiry),
 * not a count: junk cannot evict a real id. Only commands for real,
 * cloud-controllable actuators are remembered (the handler filters), and
 * those are rate limited per actuator, so the table is bounded by
 * actuators × rate × window.
 *
 * No I/O per command: remember() only updates a memory map; the map is
 * written in one SQLite transaction (WAL, synchronous=NORMAL) every
 * `flushMs` or when `batchRows` are waiting, and on close(). A crash loses at
 * most the last `flushMs` of ids. Rows older than the window are deleted at
 * each flush. get() reads the map, then one indexed row.
 */
export interface CommandLogOptions {
  /** SQLite file, e.g. /var/lib/fieldgate/commands.db; in memory when absent. */
  file?: string;
  clock: Clock;
  log: Logger;
  /** How long an id is remembered, ms (default 24 h). */
  window?: number;
  flushMs?: number;
  batchRows?: number;
}

export interface LoggedCommand {
  /** When the id was first seen (the window counts from here). */
  firstSeen: number;
  fingerprint: string;
  result: CommandResult;
}

/** The fingerprint of an id whose command is not known (imported from the pre-upgrade commands.json): every redelivery is its duplicate. */
export const UNKNOWN_FINGERPRINT = '';
const DEFAULT_WINDOW = 86_400_000;
/** Unflushed rows kept while the disk refuses writes; beyond it the oldest are dropped (counted). */
const MAX_UNFLUSHED = 20_000;

export class CommandLog {
  private readonly db: Database.Database;
  private readonly unflushed = new Map<string, { actuator: string; id: string; entry: LoggedCommand }>();
  private readonly st: { get: Database.Statement<[string, string]>; put: Database.Statement<[string, string, number, string, string]>; prune: Database.Statement<[number]>; count: Database.Statement<[]> };
  private timer: TimerHandle | undefined;
  private closed = false;
  readonly window: number;
  saveErrors = 0;
  /** Ids dropped from memory unsaved while the disk refused writes. */
  lost = 0;

  constructor(private readonly opts: CommandLogOptions) {
    this.window = opts.window ?? DEFAULT_WINDOW;
    if (opts.file) fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    this.db = new Database(opts.file ?? ':memory:');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 2000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS command_ids (
      actuator TEXT NOT NULL, id TEXT NOT NULL, first_seen INTEGER NOT NULL, fingerprint TEXT NOT NULL, result TEXT NOT NULL,
      PRIMARY KEY (actuator, id)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS command_ids_first_seen ON command_ids (first_seen);`);
    this.st = {
      get: this.db.prepare('SELECT first_seen AS firstSeen, fingerprint, result FROM command_ids WHERE actuator = ? AND id = ?'),
      put: this.db.prepare('INSERT OR REPLACE INTO command_ids (actuator, id, first_seen, fingerprint, result) VALUES (?, ?, ?, ?, ?)'),
      prune: this.db.prepare('DELETE FROM command_ids WHERE first_seen < ?'),
      count: this.db.prepare('SELECT count(*) AS n FROM command_ids'),
    };
  }

  /** The remembered command, if `id` was seen for `actuator` within the window. */
  get(actuator: string, id: string): LoggedCommand | undefined {
    const cutoff = this.opts.clock.now() - this.window;
    const mem = this.unflushed.get(key(actuator, id))?.entry;
    if (mem) return mem.firstSeen >= cutoff ? mem : undefined;
    const row = this.st.get.get(actuator, id) as { firstSeen: number; fingerprint: string; result: string } | undefined;
    if (!row || row.firstSeen < cutoff) return undefined;
    return { firstSeen: row.firstSeen, fingerprint: row.fingerprint, result: JSON.parse(row.result) as CommandResult };
  }

  /** Remember (or update) a command's result; written with the next batch. */
  remember(actuator: string, id: string, entry: LoggedCommand): void {
    if (this.closed) return;
    const k = key(actuator, id);
    this.unflushed.delete(k);
    this.unflushed.set(k, { actuator, id, entry });
    while (this.unflushed.size > MAX_UNFLUSHED) {
      this.unflushed.delete(this.unflushed.keys().next().value as string);
      this.lost++;
    }
    if (this.unflushed.size >= (this.opts.batchRows ?? 200)) this.flush();
    else if (!this.timer) this.timer = this.opts.clock.setTimeout(() => this.flush(), this.opts.flushMs ?? 200);
  }

  /** Write everything waiting in one transaction and drop rows past the window. */
  flush(): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const rows = [...this.unflushed.values()];
    try {
      this.db.transaction(() => {
        for (const r of rows) this.st.put.run(r.actuator, r.id, r.entry.firstSeen, r.entry.fingerprint, JSON.stringify(r.entry.result));
        this.st.prune.run(this.opts.clock.now() - this.window);
      })();
      for (const r of rows) if (this.unflushed.get(key(r.actuator, r.id))?.entry === r.entry) this.unflushed.delete(key(r.actuator, r.id));
      if (this.saveErrors > 0 && rows.length > 0) this.opts.log.info('command log writes work again', { saveErrors: this.saveErrors });
      this.saveErrors = 0;
    } catch (err) {
      this.saveErrors++;
      if (this.saveErrors === 1) this.opts.log.error('cannot save the command log (ids kept in memory; a restart may re-apply them)', { file: this.opts.file, err: errorMessage(err) });
      this.timer = this.opts.clock.setTimeout(() => this.flush(), Math.min(30_000, (this.opts.flushMs ?? 200) * 2 ** Math.min(this.saveErrors, 8)));
    }
  }

  /** Rows on disk plus those waiting (a measurement; counts with one query). */
  get size(): number {
    return (this.st.count.get() as { n: number }).n + this.unflushed.size;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

function key(actuator: string, id: string): string {
  return `${actuator}\u0000${id}`;
}
