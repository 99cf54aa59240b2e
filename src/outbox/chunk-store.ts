/**
 * The readings' side of the outbox file: chunks (chunk.ts) in the `chunks` table.
 * Every method runs on the caller's connection; those that change more than one row
 * must run inside a transaction (the outbox opens one).
 *
 * Removing readings from the middle of a chunk (an ack range that ends inside it, a
 * refused reading, eviction of the oldest n) rewrites that chunk without them; chunks
 * wholly inside a range are deleted by one statement.
 */
import { CHUNK_MAX_READINGS, ChunkView, ChunkWriter, type ChunkRow } from './chunk';
import { ReadingBatch, type ChunkSegment } from './reading-batch';
import type { Statements } from './sql';
import type { StoredReading } from './types';

export class ChunkStore {
  private readonly writer: ChunkWriter;
  /** Builds a chunk's replacement (separate from the commit's chunk being staged; any stored chunk fits). */
  private readonly rewriter = new ChunkWriter(CHUNK_MAX_READINGS);

  /** chunkReadings: readings per new chunk at most (see OutboxOptions.chunkReadings). */
  constructor(
    private readonly st: Statements,
    private readonly sensorNames: ReadonlyMap<number, string>,
    chunkReadings = CHUNK_MAX_READINGS,
  ) {
    this.writer = new ChunkWriter(chunkReadings);
  }

  /** Stage a reading for the chunk being built; full chunks are inserted at once. */
  push(seq: number, sensor: number, ts: number, value: number | string, qf: number): void {
    this.writer.push(seq, sensor, ts, value, qf);
    if (this.writer.full) this.insertStaged();
  }

  /** Forget readings staged by a commit that failed part way (its transaction rolled back). */
  discardStaged(): void {
    this.writer.clear();
  }

  /** Insert what push() staged (call before the transaction ends). */
  insertStaged(): void {
    if (this.writer.length === 0) return;
    const c = this.writer.take();
    this.st.insertChunk.run(c.first, c.last, c.n, c.ts, c.data, c.texts);
  }

  /**
   * Up to `limit` readings with seq > afterSeq, oldest first. With `wholeChunks`, the run
   * ends where a chunk ends rather than inside the next one, unless that would leave it
   * empty: acknowledging such a run later deletes whole rows instead of rewriting one.
   * The batch says whether readings past it were left out (`more`).
   */
  peek(afterSeq: number, limit: number, wholeChunks = false): ReadingBatch {
    const segments: ChunkSegment[] = [];
    let total = 0;
    let more = false;
    if (limit > 0) {
      for (const row of this.st.chunksFrom.iterate(afterSeq, afterSeq)) {
        const view = new ChunkView(row);
        const start = row.first > afterSeq ? 0 : view.indexAfter(afterSeq);
        const available = view.n - start;
        if (available <= 0) continue;
        if (total >= limit || (wholeChunks && total > 0 && total + available > limit)) {
          more = true;
          break;
        }
        const count = Math.min(available, limit - total);
        segments.push({ view, start, count });
        total += count;
        if (count < available) {
          more = true;
          break;
        }
      }
    }
    return new ReadingBatch(segments, this.sensorNames, more);
  }

  /** The stored reading with this seq, or undefined. */
  reading(seq: number): StoredReading | undefined {
    const batch = this.peek(seq - 1, 1);
    return batch.length === 1 && batch.seq(0) === seq ? batch.toStoredReadings()[0] : undefined;
  }

  /** Remove every reading with from <= seq <= to. Returns how many were removed. */
  removeRange(from: number, to: number): number {
    if (to < from) return 0;
    let removed = 0;
    // A chunk that starts before `from` and reaches into the range (it may also reach past `to`).
    const head = this.st.chunkAt.get(from);
    if (head && head.first < from && head.last >= from) removed += this.rewrite(head, (seq) => seq >= from && seq <= to);
    // A chunk that starts within the range and ends past it.
    const tail = this.st.chunkAt.get(to);
    if (tail && tail.first >= from && tail.last > to) removed += this.rewrite(tail, (seq) => seq <= to);
    const within = this.st.readingsWithin.get(from, to)?.n ?? 0;
    if (within > 0) this.st.deleteChunksWithin.run(from, to);
    return removed + within;
  }

  /** Remove the listed readings (any order; seqs not stored are ignored). Returns how many were removed. */
  removeSeqs(seqs: readonly number[]): number {
    const drop = new Set(seqs);
    const firsts = new Set<number>();
    let removed = 0;
    for (const seq of [...drop].sort((a, b) => a - b)) {
      const row = this.st.chunkAt.get(seq);
      if (!row || row.last < seq || firsts.has(row.first)) continue;
      firsts.add(row.first);
      removed += this.rewrite(row, (s) => drop.has(s));
    }
    return removed;
  }

  /** Remove the n oldest readings. Returns how many were removed (fewer when fewer are stored). */
  removeOldest(n: number): number {
    if (n <= 0) return 0;
    let whole = 0;
    let wholeLast = -1;
    let partial: { first: number; keepFrom: number } | undefined;
    for (const c of this.st.chunkSizes.iterate()) {
      if (whole + c.n <= n) {
        whole += c.n;
        wholeLast = c.last;
        if (whole === n) break;
        continue;
      }
      partial = { first: c.first, keepFrom: n - whole };
      break;
    }
    if (wholeLast >= 0) this.st.deleteChunksWithin.run(0, wholeLast);
    if (!partial) return whole;
    const row = this.st.chunkAt.get(partial.first);
    if (!row) return whole;
    const view = new ChunkView(row);
    const cut = view.seq(partial.keepFrom);
    return whole + this.rewrite(row, (seq) => seq < cut, view);
  }

  /** Rewrite a chunk without the readings `drop` selects (delete it when none is left). Returns how many it dropped. */
  private rewrite(row: ChunkRow, drop: (seq: number) => boolean, view = new ChunkView(row)): number {
    let dropped = 0;
    for (let i = 0; i < view.n; i++) {
      if (drop(view.seq(i))) dropped++;
      else this.rewriter.pushFrom(view, i);
    }
    if (dropped === 0) {
      this.rewriter.clear(); // nothing to change; discard the copy
      return 0;
    }
    if (this.rewriter.length === 0) {
      this.st.deleteChunk.run(row.first);
      return dropped;
    }
    const c = this.rewriter.take();
    this.st.updateChunk.run(c.first, c.last, c.n, c.ts, c.data, c.texts, row.first);
    return dropped;
  }
}
