/**
 * Moves committed rows from the outbox to the broker while the uplink is online.
 *
 *   outbox ──peek──► messages first (events/results), then readings batched up to
 *   batch.maxReadings ──publish (QoS1)──► broker ──PUBACK──► outbox.ack (delete)
 *                                                └─reason ≥ 0x80─► outbox.setAside
 *
 * At most `inflight` messages are unacknowledged at once. A live (not replayed) partial
 * batch waits up to batch.maxDelay to fill; a backlog is sent at once. Each connection
 * is one "session" (begin … end); acks from an ended session are ignored, and rows that
 * were in flight are sent again in the next session (counted as possible duplicates).
 * Single-threaded: every entry point runs on the event loop; pump() is not re-entrant.
 */
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Outbox } from '../outbox/outbox';
import type { ReadingBatch } from '../outbox/reading-batch';
import type { MessageProperties, StoredMessage } from '../outbox/types';
import { BatchEncoder } from './batch-format';

/** The part of the outbox the uplink uses. */
export type UplinkOutbox = Pick<
  Outbox,
  'peekReadingBatch' | 'ackReadings' | 'peekMessages' | 'ackMessage' | 'setAside' | 'lastCommittedSeq' | 'onCommitted'
>;

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
  properties?: MessageProperties;
}

/** Publish and call back on PUBACK (QoS1) or once written (QoS0); err.code carries a reason code. */
export type Publish = (topic: string, payload: Buffer, opts: PublishOptions, done: (err?: Error) => void) => void;

export interface DrainOptions {
  outbox: UplinkOutbox;
  clock: Clock;
  log: Logger;
  gatewayId: string;
  dataTopic: string;
  qos: 0 | 1;
  maxReadings: number;
  maxDelay: number;
  inflight: number;
}

export interface DrainStats {
  /** Data and event messages published. */
  published: number;
  /** Rows (readings and messages) acknowledged and deleted. */
  ackedRows: number;
  /** Rows sent again after a reconnect (the broker may have had them already). */
  duplicates: number;
  /** Rows the broker refused, set aside. */
  rejected: number;
  inflight: number;
}

/** A readings batch is every reading with from <= seq <= to (messages share the seq space). */
type InFlight = { kind: 'readings'; from: number; to: number } | { kind: 'message'; seq: number };

const REFUSED = 0x80;
/** Refused topics remembered for the health document, at most (topics come from the outbox). */
const MAX_REFUSED_TOPICS = 32;

export class Drain {
  private publish: Publish | undefined;
  private session = 0;
  private readonly inflight = new Set<InFlight>();
  private readCursor = 0;
  private messageCursor = 0;
  private replayedUpTo = 0;
  private resendUpTo = 0;
  private batchTimer: TimerHandle | undefined;
  private batchDue = false;
  private pumping = false;
  private sending = false;
  private lastRefusal = '';
  private readonly refused = new Map<string, { reason: string; rows: number }>();
  private idleWaiters: Array<() => void> = [];
  private finishing = false;
  private finishWaiters: Array<() => void> = [];
  private readonly counts = { published: 0, ackedRows: 0, duplicates: 0, rejected: 0 };
  private readonly encoder: BatchEncoder;

  constructor(private readonly o: DrainOptions) {
    this.encoder = new BatchEncoder(o.gatewayId);
  }

  /** Online: start sending from the oldest row. Rows up to replayedUpTo get the REPLAYED flag. */
  begin(publish: Publish, replayedUpTo: number): void {
    this.session++;
    this.publish = publish;
    this.sending = true;
    this.readCursor = 0;
    this.messageCursor = 0;
    this.replayedUpTo = replayedUpTo;
    this.pump();
  }

  /** Stop starting new publishes but keep accepting acks of those in flight (clean stop, delivery not proven). */
  quiesce(): void {
    this.sending = false;
    this.clearBatchTimer();
  }

  /**
   * Clean stop: send everything the outbox holds now, partial batches at once, and resolve
   * when it is all acknowledged (or the session ends). When not sending (delivery not
   * proven), only wait for what is in flight. The caller bounds the wait (drainOnStop).
   */
  finish(): Promise<void> {
    if (!this.publish || !this.sending) return this.whenIdle();
    this.finishing = true;
    this.clearBatchTimer();
    const done = new Promise<void>((resolve) => this.finishWaiters.push(resolve));
    this.pump();
    return done;
  }

  /** Start sending again after quiesce(), in the same session. */
  resume(): void {
    if (!this.publish || this.sending) return;
    this.sending = true;
    this.pump();
  }

  /** Topics the broker refuses (PUBACK ≥ 0x80) and has not accepted since, with the reason and rows set aside. */
  refusals(): Array<{ topic: string; reason: string; rows: number }> {
    return [...this.refused].map(([topic, r]) => ({ topic, ...r }));
  }

  /** Connection gone: forget what is in flight (still in the outbox; sent again next session). */
  end(): void {
    for (const f of this.inflight) {
      const top = f.kind === 'readings' ? f.to : f.seq;
      this.resendUpTo = Math.max(this.resendUpTo, top);
    }
    this.inflight.clear();
    this.session++;
    this.publish = undefined;
    this.sending = false;
    this.finishing = false;
    this.clearBatchTimer();
    this.notifyIdle();
    this.notifyFinished();
  }

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.inflight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stats(): DrainStats {
    return { ...this.counts, inflight: this.inflight.size };
  }

  /** New rows committed, an ack freed a slot, or the batch delay expired. */
  pump(): void {
    if (this.pumping || !this.sending || !this.publish) return;
    this.pumping = true;
    let exhausted = false;
    try {
      while (this.sending && this.inflight.size < this.o.inflight) {
        const [message] = this.o.outbox.peekMessages(this.messageCursor, 1);
        if (message) {
          this.sendMessage(message);
          continue;
        }
        // A live batch that cannot be full yet (fewer seqs committed past the cursor than a
        // batch holds) waits for its timer without reading the rows again on every commit
        // (not while finishing: a clean stop sends the partial batch at once).
        if (!this.batchDue && !this.finishing && this.readCursor >= this.replayedUpTo && this.o.outbox.lastCommittedSeq() - this.readCursor < this.o.maxReadings) {
          if (this.o.outbox.lastCommittedSeq() > this.readCursor) this.armBatchTimer();
          break;
        }
        // Whole stored chunks: the PUBACK then deletes rows rather than rewriting one.
        const rows = this.o.outbox.peekReadingBatch(this.readCursor, this.o.maxReadings, true);
        if (rows.length === 0) {
          exhausted = true;
          break;
        }
        // Full: no more fits (a batch that stops at a chunk's end with readings after it is full too).
        const full = rows.length >= this.o.maxReadings || rows.more;
        const backlog = rows.seq(0) <= this.replayedUpTo;
        if (!full && !backlog && !this.batchDue && !this.finishing) {
          this.armBatchTimer();
          break;
        }
        this.batchDue = false;
        this.clearBatchTimer();
        this.sendReadings(rows);
      }
    } finally {
      this.pumping = false;
    }
    if (this.finishing && exhausted && this.inflight.size === 0) this.notifyFinished();
  }

  private sendReadings(rows: ReadingBatch): void {
    const entry: InFlight = { kind: 'readings', from: rows.seq(0), to: rows.seq(rows.length - 1) };
    this.readCursor = entry.to;
    for (let i = 0; i < rows.length && rows.seq(i) <= this.resendUpTo; i++) this.counts.duplicates++;
    this.send(entry, this.o.dataTopic, this.encoder.encode(rows, this.replayedUpTo), { qos: this.o.qos, retain: false });
  }

  private sendMessage(m: StoredMessage): void {
    this.messageCursor = m.seq;
    if (m.seq <= this.resendUpTo) this.counts.duplicates++;
    this.send({ kind: 'message', seq: m.seq }, m.topic, m.payload, { qos: m.qos, retain: m.retain, properties: m.properties });
  }

  private send(entry: InFlight, topic: string, payload: Buffer, opts: PublishOptions): void {
    const session = this.session;
    this.inflight.add(entry);
    this.counts.published++;
    this.publish?.(topic, payload, opts, (err) => {
      if (session !== this.session) return; // an ended connection; the rows are sent again
      this.inflight.delete(entry);
      this.settle(entry, topic, err);
      this.notifyIdle();
      this.pump();
    });
  }

  private settle(entry: InFlight, topic: string, err: Error | undefined): void {
    const code = (err as { code?: unknown } | undefined)?.code;
    if (err && !(typeof code === 'number' && code >= REFUSED)) {
      // Not a broker verdict (e.g. the write failed): leave the rows for the next session.
      this.o.log.debug('publish not acknowledged', { error: errorMessage(err) });
      return;
    }
    try {
      if (!err) {
        this.refused.delete(topic);
        this.counts.ackedRows += entry.kind === 'readings' ? this.o.outbox.ackReadings(entry.from, entry.to) : Number(this.o.outbox.ackMessage(entry.seq));
        return;
      }
      const reason = `PUBACK 0x${(code as number).toString(16)}: ${errorMessage(err)}`;
      const n = this.o.outbox.setAside(entry.kind === 'readings' ? this.readingSeqs(entry.from, entry.to) : [entry.seq], reason);
      this.counts.rejected += n;
      if (this.refused.has(topic) || this.refused.size < MAX_REFUSED_TOPICS) this.refused.set(topic, { reason, rows: (this.refused.get(topic)?.rows ?? 0) + n });
      if (reason !== this.lastRefusal) {
        this.lastRefusal = reason;
        this.o.log.error('broker refused a message; rows set aside', { reason, rows: n });
      }
    } catch (e) {
      this.o.log.error('outbox update after PUBACK failed', { error: errorMessage(e) });
    }
  }

  /** The seqs of the readings still stored in from..to (not kept per batch in flight: refusals are rare). */
  private readingSeqs(from: number, to: number): number[] {
    const rows = this.o.outbox.peekReadingBatch(from - 1, to - from + 1);
    const seqs: number[] = [];
    for (let i = 0; i < rows.length && rows.seq(i) <= to; i++) seqs.push(rows.seq(i));
    return seqs;
  }

  private armBatchTimer(): void {
    if (this.batchTimer !== undefined) return;
    this.batchTimer = this.o.clock.setTimeout(() => {
      this.batchTimer = undefined;
      this.batchDue = true;
      this.pump();
    }, this.o.maxDelay);
  }

  private clearBatchTimer(): void {
    this.o.clock.clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
  }

  private notifyFinished(): void {
    const waiters = this.finishWaiters;
    this.finishWaiters = [];
    for (const w of waiters) w();
  }

  private notifyIdle(): void {
    if (this.inflight.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
