import type { Logger } from '../../src/core/logger';
import { decodeRegisters, decodeWord, wordCount, type PointShape } from './codec';
import type { ModbusError, ModbusErrorKind } from './errors';
import { overlapsForbidden, planReads, type AddressRange, type PlanPoint, type ReadRequest } from './planner';
import { REGISTER_KINDS, type ModbusDeviceConfig, type ModbusPointConfig, type RegisterKind } from './schema';

/** A configured point with its polling state. */
export interface BusPoint extends PlanPoint, PointShape {
  config: ModbusPointConfig;
  /**
   * The sensor id, scale and offset, copied from config: read for every value on the
   * polling path, where the zod-made config objects (several hidden classes) made each
   * of these property reads megamorphic (V8 --log-ic); BusPoints share one shape.
   */
  id: string;
  scale: number;
  offset: number;
  intervalMs: number;
  nextDue: number;
}

/** ok: answering; failing: recent cycles failed; degraded: skipped until degradedUntil. */
export type DeviceStatus = 'ok' | 'failing' | 'degraded';

export interface WriteJob {
  kind: 'write';
  run: () => Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
  attempt: number;
}
export interface ReadJob {
  kind: 'read';
  req: ReadRequest<BusPoint>;
  attempt: number;
  /** Set on the halves of a block split after ILLEGAL DATA ADDRESS: the unread gap between them. */
  split?: { gap: AddressRange | undefined; ok: number };
}

/**
 * When a point read at `now` is next due. Polls run on the interval's grid (multiples of
 * the interval in epoch ms), so every point and device with the same interval falls due in
 * the same millisecond: twenty meters polled every second are read in one event-loop
 * wake-up, not twenty, and their samples are taken together. On the grid that is the next
 * multiple after `due`, skipping those already missed; the first read (at start, off the
 * grid) is followed by the first multiple at least half an interval later.
 */
export function nextDue(now: number, due: number, intervalMs: number): { next: number; missed: number } {
  if (intervalMs <= 0) return { next: now, missed: 0 };
  if (due % intervalMs !== 0) return { next: Math.ceil((now + intervalMs / 2) / intervalMs) * intervalMs, missed: 0 };
  const missed = Math.max(0, Math.floor((now - due) / intervalMs));
  return { next: due + (missed + 1) * intervalMs, missed };
}

/**
 * One device on the bus: its points, the work of its current poll cycle, and its
 * health (error counts by kind, last error, failed cycles, learned forbidden
 * ranges). State changes are logged once each.
 */
export class DeviceState {
  readonly points: BusPoint[];
  readonly reads: ReadJob[] = [];
  readonly writes: WriteJob[] = [];
  status: DeviceStatus = 'ok';
  degradedUntil = 0;
  failedCycles = 0;
  /** True once anything in the current cycle was answered (data or exception). */
  cycleAnswered = false;
  transactions = 0;
  overruns = 0;
  private overrunning = false;
  /** The read requests of a cycle in which every point is due (see startCycle). */
  private fullPlan: ReadRequest<BusPoint>[] | undefined;
  readonly errors: Record<ModbusErrorKind, number> = { timeout: 0, frame: 0, exception: 0, port: 0, busy: 0, other: 0 };
  lastError?: string;
  lastErrorAt?: number;
  readonly learned: Record<RegisterKind, AddressRange[]> = { coil: [], discrete: [], input: [], holding: [] };

  constructor(
    readonly config: ModbusDeviceConfig,
    private readonly log: Logger,
    now: number,
  ) {
    this.points = config.sensors.map((s) => ({
      config: s,
      id: s.id,
      scale: s.scale,
      offset: s.offset,
      register: s.register,
      address: s.address,
      type: s.type,
      order: s.order,
      bit: s.bit,
      length: s.length,
      words: s.register === 'coil' || s.register === 'discrete' ? 1 : wordCount(s),
      intervalMs: s.interval ?? config.interval,
      nextDue: now,
    }));
  }

  get name(): string {
    return this.config.name;
  }

  hasWork(): boolean {
    return this.writes.length > 0 || this.reads.length > 0;
  }

  /** Earliest time this device will want the bus for reads. */
  nextWake(): number {
    let due = Infinity;
    for (const p of this.points) if (p.nextDue < due) due = p.nextDue;
    return this.status === 'degraded' ? Math.max(due, this.degradedUntil) : due;
  }

  /** Start a poll cycle if points are due (and the device is not degraded). Returns true if work was queued. */
  startCycle(now: number): boolean {
    if (this.reads.length > 0 || (this.status === 'degraded' && now < this.degradedUntil)) return false;
    let dueCount = 0;
    for (const p of this.points) if (p.nextDue <= now) dueCount++;
    if (dueCount === 0) return false;
    const all = dueCount === this.points.length;
    const due = all ? this.points : this.points.filter((p) => p.nextDue <= now);
    let overran = false;
    for (const p of due) {
      const { next, missed } = nextDue(now, p.nextDue, p.intervalMs);
      if (missed >= 1) overran = true;
      p.nextDue = next;
    }
    this.noteOverrun(overran);
    this.cycleAnswered = false;
    // Most cycles read every point (one interval per device): that plan is made once and
    // kept until a learned forbidden range changes it. Requests are never modified.
    const plan = all && this.fullPlan ? this.fullPlan : this.plan(due);
    if (all) this.fullPlan = plan;
    for (const req of plan) this.reads.push({ kind: 'read', req, attempt: 0 });
    return true;
  }

  private plan(due: readonly BusPoint[]): ReadRequest<BusPoint>[] {
    const c = this.config;
    const out: ReadRequest<BusPoint>[] = [];
    for (const register of REGISTER_KINDS) {
      const points = due.filter((p) => p.register === register);
      if (points.length === 0) continue;
      // Configured ranges apply to every table; learned ones to the table that answered the exception.
      const forbidden = [...c.forbidden, ...this.learned[register]];
      out.push(...planReads(points, { maxGap: c.maxGap, maxRegisters: c.maxRegisters, maxBits: c.maxBits, forbidden }));
    }
    return out;
  }

  /** The value of point p (one of req.points) in an answered read, scaled. */
  decode(req: ReadRequest<BusPoint>, data: readonly number[], p: BusPoint): number | string {
    const at = p.address - req.start;
    const raw = p.words === 1 && p.type !== 'string' ? decodeWord(data[at], p) : decodeRegisters(data.slice(at, at + p.words), p);
    return typeof raw === 'number' ? raw * p.scale + p.offset : raw;
  }

  /** Remember a range that answers ILLEGAL DATA ADDRESS so no block spans it again. */
  learnForbidden(register: RegisterKind, range: AddressRange): void {
    const list = this.learned[register];
    if (overlapsForbidden(range[0], range[1] + 1, list)) return;
    list.push(range);
    this.fullPlan = undefined;
    this.log.warn('learned forbidden address range', { device: this.name, register, from: range[0], to: range[1] });
  }

  recordError(err: ModbusError, now: number): void {
    this.errors[err.kind]++;
    this.lastError = err.message;
    this.lastErrorAt = now;
  }

  /** The current cycle ended. Moves between ok, failing and degraded; logs each change once. */
  endCycle(now: number): void {
    if (this.cycleAnswered) {
      this.failedCycles = 0;
      this.setStatus('ok', now);
      return;
    }
    this.failedCycles++;
    if (this.failedCycles >= this.config.degradeAfter) {
      this.degradedUntil = now + this.config.degradeFor;
      this.setStatus('degraded', now);
    } else this.setStatus('failing', now);
  }

  private setStatus(s: DeviceStatus, now: number): void {
    if (s === this.status) return;
    const from = this.status;
    this.status = s;
    const fields = { device: this.name, unit: this.config.unit, from, to: s, lastError: this.lastError };
    if (s === 'ok') this.log.info('device answering again', fields);
    else if (s === 'degraded') this.log.warn('device degraded: skipped for a while', { ...fields, until: new Date(this.degradedUntil).toISOString(), failedCycles: this.failedCycles });
    else this.log.warn('device not answering', { ...fields, at: now });
  }

  private noteOverrun(overran: boolean): void {
    if (overran) this.overruns++;
    if (overran === this.overrunning) return;
    this.overrunning = overran;
    if (overran) this.log.warn('poll overrun: more work than the interval allows; cycles are being skipped', { device: this.name });
    else this.log.info('poll overrun cleared', { device: this.name });
  }

  health(): Record<string, unknown> {
    return {
      unit: this.config.unit,
      status: this.status,
      ...(this.status === 'degraded' ? { degradedUntil: this.degradedUntil } : {}),
      transactions: this.transactions,
      failedCycles: this.failedCycles,
      overruns: this.overruns,
      errors: { ...this.errors },
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      learnedForbidden: Object.fromEntries(Object.entries(this.learned).filter(([, v]) => v.length > 0)),
    };
  }
}
