/**
 * The outbox's bound. When the readings exceed `maxRows`, or the pages in use exceed
 * `maxMB`, the oldest telemetry is deleted in one batch, down to 99 % of the limit
 * (so eviction runs once per ~1 % of new data, not once per row). Events and command
 * results are only evicted, oldest first, once no telemetry is left.
 */
import type Database from 'better-sqlite3';
import type { ChunkStore } from './chunk-store';
import { pageStats } from './page-stats';
import type { Statements } from './sql';

/** Eviction brings usage down to this fraction of the limit. */
export const EVICT_LOW_WATER = 0.99;
/** Rows deleted at least per step when evicting by size. */
const MIN_BYTES_STEP_ROWS = 64;
/** Safety bound on size-eviction steps within one commit. */
const MAX_BYTES_STEPS = 64;

export interface Budget {
  maxRows: number;
  maxBytes: number;
}

export interface Evicted {
  readings: number;
  messages: number;
}

/** Bytes of the pages in use (free-list pages are reused before the file grows). */
export function usedBytes(db: Database.Database): number {
  const s = pageStats(db);
  return (s.pageCount() - s.freePages()) * s.pageSize;
}

/** True when either limit is exceeded. */
export function overBudget(db: Database.Database, depth: number, budget: Budget): boolean {
  return depth > budget.maxRows || usedBytes(db) > budget.maxBytes;
}

/**
 * Delete oldest rows until both limits hold again. Must run inside a transaction.
 * `depth`/`messages` are the current row counts.
 */
export function evict(db: Database.Database, st: Statements, chunks: ChunkStore, budget: Budget, depth: number, messages: number): Evicted {
  const out: Evicted = { readings: 0, messages: 0 };
  if (depth > budget.maxRows) {
    const keep = Math.floor(budget.maxRows * EVICT_LOW_WATER);
    out.readings += chunks.removeOldest(depth - keep);
    depth -= out.readings;
  }
  const target = budget.maxBytes * EVICT_LOW_WATER;
  for (let step = 0; step < MAX_BYTES_STEPS; step++) {
    const used = usedBytes(db);
    if (used <= target) break;
    const rows = depth + messages;
    if (rows === 0) break;
    const perRow = used / rows;
    const n = Math.max(MIN_BYTES_STEP_ROWS, Math.ceil((used - target) / perRow));
    if (depth > 0) {
      const d = chunks.removeOldest(Math.min(n, depth));
      out.readings += d;
      depth -= d;
    } else {
      const d = deleteOldestMessages(st, Math.min(n, messages));
      out.messages += d;
      messages -= d;
    }
  }
  return out;
}

function deleteOldestMessages(st: Statements, n: number): number {
  if (n <= 0) return 0;
  const nth = st.nthMessageSeq.get(n - 1);
  return nth ? st.deleteMessagesUpTo.run(nth.seq).changes : 0;
}
