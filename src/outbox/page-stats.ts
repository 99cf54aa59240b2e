import type Database from 'better-sqlite3';

/**
 * The page counts the outbox reads on every commit (eviction's size check) and every
 * ack (reclaim), as statements prepared once per connection: `db.pragma()` compiles
 * its statement on each call, which showed in profiles at 10 000 readings/s.
 */
export interface PageStats {
  /** Fixed for the life of the file (the outbox never changes it). */
  readonly pageSize: number;
  pageCount(): number;
  freePages(): number;
}

const cache = new WeakMap<Database.Database, PageStats>();

export function pageStats(db: Database.Database): PageStats {
  let s = cache.get(db);
  if (!s) {
    const count = db.prepare('PRAGMA page_count').pluck();
    const free = db.prepare('PRAGMA freelist_count').pluck();
    s = {
      pageSize: db.pragma('page_size', { simple: true }) as number,
      pageCount: () => count.get() as number,
      freePages: () => free.get() as number,
    };
    cache.set(db, s);
  }
  return s;
}
