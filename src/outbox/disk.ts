/**
 * The outbox's footprint on disk: the database file and its WAL, together within maxMB.
 *
 *   maxMB ──► WAL limit = maxMB / 8 (16 KiB … 4 MiB): wal_autocheckpoint and journal_size_limit
 *        └──► database budget = maxMB − WAL limit − 2 × one commit (flushRows readings): a
 *             commit grows the file before eviction trims the pages in use, and the WAL
 *             passes its limit by one commit before the checkpoint that follows it
 *             (at least maxMB / 8 and 64 KiB, for budgets too small for that reserve:
 *             below ~0.5 MB with the default flushRows the bound cannot hold).
 *
 * Space freed by acknowledged rows comes back to the file system: the database uses
 * auto_vacuum = INCREMENTAL, and after acks `reclaim()` hands free pages back in bounded
 * steps (all at once when the outbox is empty, then the WAL is truncated too).
 */
import fs from 'node:fs';
import type Database from 'better-sqlite3';
import { pageStats } from './page-stats';

const MIN_WAL = 16 * 1024;
/** The schema's own pages (tables, indexes, pointer map) with room for a few rows. */
const MIN_DB = 64 * 1024;
/** Bytes one stored reading takes in a commit, rounded up (row, index, page slack, WAL frame). */
const COMMIT_BYTES_PER_ROW = 64;
const MAX_WAL = 4 * 1024 * 1024;
/** Free pages worth a reclaim step while rows remain. */
const RECLAIM_MIN_PAGES = 256;
/** Free pages worth a full reclaim once the outbox is empty (a live outbox empties often). */
const EMPTY_RECLAIM_MIN_PAGES = 64;
/** Pages handed back per reclaim step while rows remain (bounds the work per ack). */
const RECLAIM_STEP_PAGES = 1024;

export interface DiskPlan {
  walLimitBytes: number;
  /** What eviction holds the database's pages in use to. */
  dbBudgetBytes: number;
}

export function diskPlan(maxBytes: number, flushRows: number): DiskPlan {
  const walLimitBytes = Math.max(MIN_WAL, Math.min(MAX_WAL, Math.floor(maxBytes / 8)));
  const commitBytes = flushRows * COMMIT_BYTES_PER_ROW;
  return { walLimitBytes, dbBudgetBytes: Math.max(maxBytes - walLimitBytes - 2 * commitBytes, Math.floor(maxBytes / 8), MIN_DB) };
}

/**
 * WAL pragmas for the plan, and incremental auto-vacuum. A database made before auto_vacuum
 * was set is converted once with VACUUM (at open, before the daemon runs anything else).
 * Returns true when that conversion ran.
 */
export function configureDisk(db: Database.Database, plan: DiskPlan): boolean {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`journal_size_limit = ${plan.walLimitBytes}`);
  db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.floor(plan.walLimitBytes / pageSize))}`);
  if ((db.pragma('auto_vacuum', { simple: true }) as number) === 2) return false;
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
  return true;
}

/**
 * After acks: hand free pages back. With rows left, only when at least half the file is
 * free, a bounded step at a time (moving live pages costs SD-card writes). When the outbox
 * is empty, `emptyReclaim` allows it, and there is something worth it (free pages, or a
 * WAL past half its limit): everything, then the WAL is checkpointed and truncated (the
 * caller rations that: see Outbox.afterDelete). Returns true when that empty-outbox
 * reclaim ran.
 */
export function reclaim(db: Database.Database, file: string, plan: DiskPlan, empty: boolean, emptyReclaim = true): boolean {
  if (empty && !emptyReclaim) return false;
  const stats = pageStats(db);
  const free = stats.freePages();
  if (empty) {
    if (free < EMPTY_RECLAIM_MIN_PAGES && walBytes(file) <= plan.walLimitBytes / 2) return false;
    db.pragma('incremental_vacuum');
    db.pragma('wal_checkpoint(TRUNCATE)');
    return true;
  }
  if (free < RECLAIM_MIN_PAGES) return false;
  if (free * 2 < stats.pageCount()) return false;
  db.pragma(`incremental_vacuum(${RECLAIM_STEP_PAGES})`);
  return false;
}

/** Bytes on disk now: the database's pages plus the WAL file. */
export function bytesOnDisk(db: Database.Database, file: string): number {
  const stats = pageStats(db);
  return stats.pageCount() * stats.pageSize + walBytes(file);
}

function walBytes(file: string): number {
  try {
    return fs.statSync(`${file}-wal`).size;
  } catch {
    return 0; // no WAL file (yet, or after a truncating checkpoint)
  }
}
