/**
 * Store-and-forward buffer between the hub and the uplink (SQLite, WAL).
 *
 *   hub ── add(reading) ──► memory batch ──(flushRows | flushInterval)──► one transaction
 *   rules/arbiter ── addMessage(event|result) ──► committed at once (with any buffered readings)
 *   uplink ◄── onCommitted ── peekReadings/peekMessages ── ackReadings/ackMessage/setAside
 *
 * Call order: construct (opens or recovers the file), add/addMessage from the daemon's
 * single thread, close() last. Sequence numbers are handed out at commit time from one
 * global counter (readings and messages share it), so seq order is commit order and
 * therefore per-sensor order. Rows are deleted only when the uplink acknowledges them
 * (after the broker's PUBACK). A failed commit (full disk, I/O error) keeps the batch
 * in memory (bounded), is counted and logged once, and is retried on the next flush.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensureFileMode } from '../core/atomic-file';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Reading } from '../core/reading';
import { ChunkStore } from './chunk-store';
import { decodeProperties, encodeProperties } from './codec';
import { bytesOnDisk, configureDisk, diskPlan, reclaim, type DiskPlan } from './disk';
import { evict, EVICT_LOW_WATER, overBudget, usedBytes, type Budget } from './eviction';
import { PendingRows } from './pending';
import type { ReadingBatch } from './reading-batch';
import type { OutboxConfig } from './schema';
import { prepareStatements, SCHEMA_VERSION, type MessageRow, type MetaKey, type Statements } from './sql';
import type { OutboxMessage, OutboxStats, RejectedRow, StoredMessage, StoredReading } from './types';

export interface OutboxOptions {
  /** Database file, normally <stateDir>/outbox.db. Its directory is created if missing. */
  path: string;
  config: OutboxConfig;
  clock: Clock;
  log: Logger;
  /**
   * Readings per stored chunk at most (1 … 1024, default 1024). The daemon passes the
   * uplink's batch.maxReadings, so a data message is whole chunks and its PUBACK deletes
   * rows instead of rewriting one.
   */
  chunkReadings?: number;
  /** Storage seam for fault tests (e.g. to limit max_page_count); defaults to better-sqlite3. */
  openDatabase?: (file: string) => Database.Database;
}

/** What one commit's transaction wrote. */
interface WriteResult {
  seq: number;
  readings: number;
  messages: number;
  evicted: { readings: number; messages: number };
}

export interface CommitInfo {
  /** Highest committed sequence number after this commit. */
  lastSeq: number;
  readings: number;
  messages: number;
}

/** Readings kept in memory while commits fail, as a multiple of flushRows (at least 10 000). */
const PENDING_LIMIT_FACTOR = 20;
const REJECTED_KEEP = 10_000;
/** Longest wait between commit retries while the disk is full. */
const MAX_RETRY_MS = 30_000;
const PRIORITY_CODE = { event: 0, result: 1 } as const;
/** An empty outbox hands its free pages back at most this often (see afterDelete)… */
const EMPTY_RECLAIM_EVERY_MS = 60_000;
/** …or at once after holding this many readings (about 1.5 MB): a drained backlog. */
const BACKLOG_RECLAIM_READINGS = 50_000;

export class Outbox {
  private readonly db: Database.Database;
  private readonly st: Statements;
  private readonly chunks: ChunkStore;
  private readonly log: Logger;
  private readonly budget: Budget;
  private readonly disk: DiskPlan;
  private readonly sensorIds = new Map<string, number>();
  private readonly sensorNames = new Map<number, string>();
  private readonly listeners = new Set<(info: CommitInfo) => void>();
  private readonly pending = new PendingRows();
  private timer: TimerHandle | undefined;
  private lastSeq: number;
  private depth: number;
  private messageCount: number;
  private droppedUnpersisted = 0;
  private commitErrors = 0;
  private failing = false;
  /** Delay before the next commit retry while failing (doubles up to MAX_RETRY_MS); 0 when not failing. */
  private retryDelay = 0;
  private lastCommitError: string | undefined;
  /** Readings dropped from memory because they could not be stored (this process). */
  private unstored = 0;
  private evicting = false;
  private episodeEvicted = 0;
  private closed = false;
  private closedDrops = 0;
  /** When an empty outbox last handed its free pages back (see afterDelete). */
  private emptyReclaimAt = -Infinity;
  /** Most readings held since then. */
  private peakDepth = 0;
  /**
   * The transactions of the hot path (a commit, a PUBACK's delete), wrapped once: better-sqlite3's
   * db.transaction() builds four wrapper functions and their properties on every call.
   */
  private readonly writeTx: Database.Transaction<(batch: PendingRows, newSensors: Map<string, number>, dropped: number) => WriteResult>;
  private readonly removeRangeTx: Database.Transaction<(fromSeq: number, toSeq: number) => number>;

  constructor(private readonly opts: OutboxOptions) {
    this.log = opts.log;
    fs.mkdirSync(path.dirname(opts.path), { recursive: true });
    ensureFileMode(opts.path); // 0640 for the db and so for its -wal/-shm, whatever the umask
    this.db = (opts.openDatabase ?? ((f: string) => new Database(f)))(opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.config.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 2000');
    const plan = diskPlan(opts.config.maxMB * 1024 * 1024, opts.config.flushRows);
    this.disk = plan;
    if (configureDisk(this.db, plan)) this.log.info('outbox database converted to incremental auto-vacuum', { path: opts.path });
    this.st = prepareStatements(this.db);
    this.chunks = new ChunkStore(this.st, this.sensorNames, opts.chunkReadings);
    this.writeTx = this.db.transaction((batch: PendingRows, newSensors: Map<string, number>, dropped: number) => this.write(batch, newSensors, dropped));
    this.removeRangeTx = this.db.transaction((fromSeq: number, toSeq: number) => this.chunks.removeRange(fromSeq, toSeq));
    this.budget = { maxRows: opts.config.maxRows, maxBytes: plan.dbBudgetBytes };
    for (const { id, name } of this.st.allSensors.all()) this.internCached(name, id);
    const migrated = this.migrateRowsToChunks();
    if (migrated > 0) this.log.info('outbox readings moved from one row each into chunks (schema 1 → 2)', { path: opts.path, readings: migrated });
    const max = this.st.maxSeqs.get();
    this.lastSeq = Math.max(this.meta('lastSeq'), max?.r ?? 0, max?.m ?? 0, max?.x ?? 0);
    this.depth = this.st.countReadings.get()?.n ?? 0;
    this.peakDepth = this.depth;
    this.messageCount = this.st.countMessages.get()?.n ?? 0;
    this.st.setMeta.run('schema', SCHEMA_VERSION);
    this.log.info('outbox open', { path: opts.path, depth: this.depth, messages: this.messageCount, lastSeq: this.lastSeq });
  }

  /** Buffer a reading; committed with its batch (no I/O here unless the batch is full). */
  add(r: Reading): void {
    if (this.refuseClosed()) return;
    this.pending.pushReading(r);
    this.boundPending();
    if (this.failing) return; // the retry timer commits, with backoff; not once per reading
    if (this.pending.length >= this.opts.config.flushRows) this.flush();
    else this.armTimer();
  }

  /** Store an event/alarm/command result (absolute topic); committed immediately. */
  addMessage(m: OutboxMessage): void {
    if (this.refuseClosed()) return;
    this.pending.pushMessage(m, this.opts.clock.now());
    if (!this.failing) this.flush();
  }

  /** Store several events/results in one commit (a burst of command results). */
  addMessages(ms: readonly OutboxMessage[]): void {
    if (this.refuseClosed()) return;
    const now = this.opts.clock.now();
    for (const m of ms) this.pending.pushMessage(m, now);
    this.flush();
  }

  /** Commit everything buffered now. Returns false when the commit failed (kept for retry). */
  flush(): boolean {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0 && this.droppedUnpersisted === 0) return true;
    try {
      const info = this.commit(this.pending);
      this.pending.clear();
      if (this.failing) {
        this.failing = false;
        this.retryDelay = 0;
        this.lastCommitError = undefined;
        this.log.info('outbox commits recovered', { commitErrors: this.commitErrors, dropped: this.unstored });
      }
      this.afterCommit(info);
      return true;
    } catch (err) {
      this.commitErrors++;
      const code = (err as { code?: string }).code;
      this.lastCommitError = `${code ?? 'error'}: ${errorMessage(err)}`;
      this.retryDelay = Math.min(MAX_RETRY_MS, this.retryDelay === 0 ? this.opts.config.flushInterval : this.retryDelay * 2);
      if (!this.failing) {
        this.failing = true;
        this.log.error('outbox cannot store readings (disk full or I/O error): keeping them in memory (bounded, oldest dropped and counted) and retrying with backoff', {
          error: errorMessage(err),
          code,
          pending: this.pending.length,
        });
      }
      this.timer = this.opts.clock.setTimeout(() => this.flush(), this.retryDelay);
      return false;
    }
  }

  /** What is wrong with the outbox, one line each, for the daemon's health (empty when nothing is). */
  problems(): string[] {
    if (!this.failing) return [];
    return [`outbox cannot store readings (${this.lastCommitError}): ${this.pending.length} held in memory, ${this.unstored} dropped; next try in ${this.retryDelay} ms`];
  }

  /** Be told after every successful commit (called synchronously; do not do heavy work). */
  onCommitted(listener: (info: CommitInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Committed readings with seq > afterSeq, oldest first. */
  peekReadings(afterSeq: number, limit: number): StoredReading[] {
    return this.peekReadingBatch(afterSeq, limit).toStoredReadings();
  }

  /**
   * peekReadings without an object per reading (the uplink's hot path). With wholeChunks
   * the batch ends on a stored chunk's end when it can (see ChunkStore.peek); `more` says
   * whether committed readings past it were left out.
   */
  peekReadingBatch(afterSeq: number, limit: number, wholeChunks = false): ReadingBatch {
    return this.chunks.peek(afterSeq, limit, wholeChunks);
  }

  /** Delete readings fromSeq..toSeq (inclusive) once the broker acknowledged them. */
  ackReadings(fromSeq: number, toSeq: number): number {
    const n = this.removeRangeTx(fromSeq, toSeq);
    this.depth -= n;
    this.afterDelete(n);
    return n;
  }

  /** Delete the listed readings (non-contiguous acknowledgements). */
  ackReadingSeqs(seqs: readonly number[]): number {
    const n = this.db.transaction(() => this.chunks.removeSeqs(seqs))();
    this.depth -= n;
    this.afterDelete(n);
    return n;
  }

  /** Committed messages with seq > afterSeq, oldest first. */
  peekMessages(afterSeq: number, limit: number): StoredMessage[] {
    // The uplink asks on every pump; most of the time there is no message at all.
    if (this.messageCount === 0) return [];
    return this.st.peekMessages.all(afterSeq, limit).map(toStoredMessage);
  }

  ackMessage(seq: number): boolean {
    const n = this.st.deleteMessage.run(seq).changes;
    this.messageCount -= n;
    this.afterDelete(n);
    return n > 0;
  }

  /**
   * Move rows the broker refused into the `rejected` table (kept for inspection, counted,
   * never retried). Accepts reading and message seqs alike. Returns how many moved.
   */
  setAside(seqs: readonly number[], reason: string): number {
    const at = this.opts.clock.now();
    const moved = this.db.transaction(() => {
      const readingSeqs: number[] = [];
      let messages = 0;
      for (const seq of seqs) {
        const reading = this.chunks.reading(seq);
        if (reading) {
          this.st.insertRejected.run(seq, 'reading', JSON.stringify(reading), reason, at);
          readingSeqs.push(seq);
          continue;
        }
        const m = this.st.getMessage.get(seq);
        if (m) {
          const { payload, ...rest } = toStoredMessage(m);
          this.st.insertRejected.run(seq, 'message', JSON.stringify({ ...rest, payload: payload.toString('base64') }), reason, at);
          this.st.deleteMessage.run(seq);
          messages++;
        }
      }
      const readings = this.chunks.removeSeqs(readingSeqs);
      this.st.addMeta.run('rejected', readings + messages);
      this.st.trimRejected.run(REJECTED_KEEP - 1);
      return { readings, messages };
    })();
    this.depth -= moved.readings;
    this.messageCount -= moved.messages;
    this.afterDelete(moved.readings + moved.messages);
    return moved.readings + moved.messages;
  }

  /** The most recently set-aside rows, newest first. */
  rejected(limit = 100): RejectedRow[] {
    return this.st.listRejected.all(limit).map((r) => ({ ...r, kind: r.kind === 'message' ? 'message' : 'reading' }));
  }

  /** Highest committed sequence number (the uplink marks rows up to it as replayed). */
  lastCommittedSeq(): number {
    return this.lastSeq;
  }

  stats(): OutboxStats {
    const r = this.st.oldestReadingTs.get()?.ts;
    const m = this.st.oldestMessageTs.get()?.ts;
    const oldest = [r, m].filter((x): x is number => x !== undefined);
    return {
      depth: this.depth,
      messages: this.messageCount,
      oldestTs: oldest.length ? Math.min(...oldest) : null,
      evicted: this.meta('evicted') + this.droppedUnpersisted,
      rejected: this.meta('rejected'),
      bytes: bytesOnDisk(this.db, this.opts.path),
      pending: this.pending.length,
      commitErrors: this.commitErrors,
      unstored: this.unstored,
      lastSeq: this.lastSeq,
    };
  }

  /** Commit what is buffered (best effort), clear the timer and close the file. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length) this.log.error('outbox closed with uncommitted rows', { lost: this.pending.length });
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  private commit(batch: PendingRows): CommitInfo {
    const newSensors = new Map<string, number>();
    const dropped = this.droppedUnpersisted;
    const result = this.writeTx(batch, newSensors, dropped);
    for (const [name, id] of newSensors) this.internCached(name, id);
    this.droppedUnpersisted -= dropped;
    this.lastSeq = result.seq;
    this.depth += result.readings - result.evicted.readings;
    if (this.depth > this.peakDepth) this.peakDepth = this.depth;
    this.messageCount += result.messages - result.evicted.messages;
    this.noteEviction(result.evicted.readings + result.evicted.messages);
    return { lastSeq: result.seq, readings: result.readings, messages: result.messages };
  }

  /** The body of a commit, inside writeTx: the batch's rows, lastSeq, eviction when over budget. */
  private write(batch: PendingRows, newSensors: Map<string, number>, dropped: number): WriteResult {
    this.chunks.discardStaged(); // left over from a commit that failed part way
    let seq = this.lastSeq;
    let readings = 0;
    let messages = 0;
    for (let i = 0; i < batch.length; i++) {
      seq++;
      const p = batch.message(i);
      if (p === null) {
        const name = batch.sensor(i);
        const sensor = this.sensorIds.get(name) ?? newSensors.get(name) ?? this.insertSensor(name, newSensors);
        this.chunks.push(seq, sensor, batch.ts(i), batch.text(i) ?? batch.number(i), batch.qf(i));
        readings++;
      } else {
        const m = p.m;
        const payload = typeof m.payload === 'string' ? Buffer.from(m.payload) : m.payload;
        this.st.insertMessage.run(seq, m.topic, payload, PRIORITY_CODE[m.priority], m.retain ? 1 : 0, m.qos ?? 1, encodeProperties(m.properties), p.at);
        messages++;
      }
    }
    this.chunks.insertStaged();
    this.st.setMeta.run('lastSeq', seq);
    let evicted = { readings: 0, messages: 0 };
    if (overBudget(this.db, this.depth + readings, this.budget)) {
      evicted = evict(this.db, this.st, this.chunks, this.budget, this.depth + readings, this.messageCount + messages);
    }
    const lost = evicted.readings + evicted.messages + dropped;
    if (lost > 0) this.st.addMeta.run('evicted', lost);
    return { seq, readings, messages, evicted };
  }

  /** Rows were deleted: hand free space back to the file system (bounded; see disk.ts). */
  private afterDelete(n: number): void {
    if (n === 0) return;
    try {
      const now = this.opts.clock.now();
      const empty = this.depth === 0 && this.messageCount === 0;
      // A live outbox is empty after almost every PUBACK and the next commits reuse its free
      // pages at once: handing them back each time (vacuum, truncating checkpoint) was the
      // largest single cost at 10 000 readings/s. So: once a minute, or at once after a backlog.
      const allowed = now - this.emptyReclaimAt >= EMPTY_RECLAIM_EVERY_MS || this.peakDepth >= BACKLOG_RECLAIM_READINGS;
      if (reclaim(this.db, this.opts.path, this.disk, empty, allowed)) {
        this.emptyReclaimAt = now;
        this.peakDepth = 0;
      }
    } catch (err) {
      this.log.warn('outbox could not hand free space back', { error: errorMessage(err) });
    }
  }

  private afterCommit(info: CommitInfo): void {
    if (info.readings === 0 && info.messages === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(info);
      } catch (err) {
        this.log.error('outbox listener failed', { error: errorMessage(err) });
      }
    }
  }

  /** Log an eviction episode once when it starts and once when usage is back under 90 %. */
  private noteEviction(n: number): void {
    if (n > 0) {
      this.episodeEvicted += n;
      if (!this.evicting) {
        this.evicting = true;
        this.log.warn('outbox over its bound; evicting oldest telemetry', { evicted: n, maxRows: this.budget.maxRows, maxMB: this.opts.config.maxMB });
      }
      return;
    }
    if (this.evicting && this.depth < this.budget.maxRows * 0.9 && usedBytes(this.db) < this.budget.maxBytes * 0.9) {
      this.evicting = false;
      this.log.info('outbox back under its bound', { evictedInEpisode: this.episodeEvicted, lowWater: EVICT_LOW_WATER });
      this.episodeEvicted = 0;
    }
  }

  private insertSensor(name: string, into: Map<string, number>): number {
    const id = Number(this.st.insertSensor.run(name).lastInsertRowid);
    into.set(name, id);
    return id;
  }

  private internCached(name: string, id: number): void {
    this.sensorIds.set(name, id);
    this.sensorNames.set(id, name);
  }

  /**
   * A schema-1 file kept one row per reading in `readings`: move them into chunks, in seq
   * order and with their seqs, in one transaction (a crash part way leaves the old table
   * whole), then drop the table. Returns how many readings moved.
   */
  private migrateRowsToChunks(): number {
    const old = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'").get();
    if (!old) return 0;
    const page = this.db.prepare<[number], [number, number, number, number | null, string | null, number]>(
      'SELECT seq, sensor, ts, value, text, qf FROM readings WHERE seq > ? ORDER BY seq LIMIT 1024',
    ).raw(true);
    return this.db.transaction(() => {
      let moved = 0;
      let after = 0;
      for (;;) {
        const rows = page.all(after);
        if (rows.length === 0) break;
        for (const [seq, sensor, ts, value, text, qf] of rows) this.chunks.push(seq, sensor, ts, text ?? value ?? Number.NaN, qf);
        this.chunks.insertStaged();
        moved += rows.length;
        after = rows[rows.length - 1][0];
      }
      this.db.exec('DROP TABLE readings');
      return moved;
    })();
  }

  private meta(key: MetaKey): number {
    return this.st.getMeta.get(key)?.value ?? 0;
  }

  private armTimer(): void {
    if (this.timer === undefined) this.timer = this.opts.clock.setTimeout(() => this.flush(), this.opts.config.flushInterval);
  }

  /** While commits fail, keep at most a bounded number of readings; drop (and count) the oldest. */
  private boundPending(): void {
    const limit = Math.max(10_000, this.opts.config.flushRows * PENDING_LIMIT_FACTOR);
    if (this.pending.length <= limit) return;
    if (this.pending.dropOldestReading()) {
      this.droppedUnpersisted++;
      this.unstored++;
    }
  }

  private refuseClosed(): boolean {
    if (!this.closed) return false;
    if (this.closedDrops++ === 0) this.log.warn('outbox is closed; dropping rows');
    return true;
  }
}

function toStoredMessage(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    topic: row.topic,
    payload: row.payload,
    priority: row.priority === PRIORITY_CODE.result ? 'result' : 'event',
    retain: row.retain === 1,
    qos: row.qos === 0 ? 0 : 1,
    properties: decodeProperties(row.properties),
    ts: row.ts,
  };
}
