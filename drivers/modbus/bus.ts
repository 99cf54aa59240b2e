import { Backoff } from '../../src/core/backoff';
import type { Clock, TimerHandle } from '../../src/core/clock';
import type { Logger } from '../../src/core/logger';
import type { DriverContext } from '../driver';
import { DeviceState, type ReadJob, type WriteJob } from './device';
import { classifyError, ILLEGAL_DATA_ADDRESS, type ModbusError } from './errors';
import { splitRequest } from './planner';
import type { ModbusTransport } from './transport';
import { interFrameDelayMs, type ModbusDriverConfig } from './schema';

/** Link state of the bus. */
export type LinkState = 'idle' | 'opening' | 'open' | 'backoff' | 'stopped';

/**
 * A lane runs one transaction at a time, taking turns round-robin among its
 * devices (one transaction per turn, writes before reads). A serial bus has one
 * lane for all devices (RS485 is half duplex); a TCP bus has one lane per device,
 * so devices behind a TCP server are polled in parallel.
 */
interface Lane {
  devices: DeviceState[];
  next: number;
  busy: boolean;
  /** The inter-frame delay after a transaction (serial). Waiting for due reads is the bus's wake timer. */
  timer?: TimerHandle;
}

export interface BusOptions {
  /** Random source for reopen backoff jitter (tests). */
  random?: () => number;
}

/**
 * The bus queue and scheduler: turns due points into planned reads, runs them
 * through the transport with fair turns, retries, degradation of absent devices,
 * isolation of addresses that answer ILLEGAL DATA ADDRESS, and reopening of a
 * lost link with backoff. All waiting goes through the injected clock.
 */
export class ModbusBus {
  readonly devices: DeviceState[];
  private readonly lanes: Lane[];
  private readonly ifd: number;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private readonly clock: Clock;
  private state: LinkState = 'idle';
  private reopenTimer?: TimerHandle;
  /**
   * One timer for all idle lanes, at the earliest time one of them has reads due: the
   * devices of a TCP bus fall due together (polls run on the interval's grid), so one
   * wake-up starts them all instead of a timer per device.
   */
  private wakeTimer?: TimerHandle;
  private wakeAt = Infinity;
  private opens = 0;
  private lastOpenError?: string;

  constructor(
    private readonly config: ModbusDriverConfig,
    private readonly transport: ModbusTransport,
    private readonly ctx: DriverContext,
    opts: BusOptions = {},
  ) {
    this.log = ctx.log;
    this.clock = ctx.clock;
    this.ifd = interFrameDelayMs(config.bus);
    this.backoff = new Backoff({ initialMs: config.reopen.initial, maxMs: config.reopen.max, minMs: config.reopen.initial / 2, random: opts.random });
    const now = this.clock.now();
    this.devices = config.devices.map((d) => new DeviceState(d, this.log, now));
    const serial = config.bus.type === 'serial';
    this.lanes = serial ? [{ devices: this.devices, next: 0, busy: false }] : this.devices.map((d) => ({ devices: [d], next: 0, busy: false }));
    transport.onDisconnect((err) => this.linkLost(err));
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Open the link once; on failure keep retrying with backoff. Rejects only for errors retrying cannot fix soon. */
  async start(): Promise<void> {
    await this.open();
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    this.clock.clearTimeout(this.reopenTimer);
    this.clock.clearTimeout(this.wakeTimer);
    for (const lane of this.lanes) this.clock.clearTimeout(lane.timer);
    for (const d of this.devices) this.failWrites(d, new Error('modbus driver stopped'));
    await this.transport.close();
  }

  /** Queue a write for a device; it runs on that device's next turn. */
  write(deviceName: string, run: () => Promise<void>): Promise<void> {
    const d = this.devices.find((x) => x.name === deviceName);
    if (!d) return Promise.reject(new Error(`no device "${deviceName}" on modbus bus ${this.config.id}`));
    if (this.state !== 'open') return Promise.reject(new Error(`modbus bus ${this.config.id} is ${this.state}: ${this.lastOpenError ?? 'not open'}`));
    return new Promise<void>((resolve, reject) => {
      d.writes.push({ kind: 'write', run, resolve, reject, attempt: 0 });
      this.pump(this.laneOf(d));
    });
  }

  health(): Record<string, unknown> {
    return {
      link: this.state,
      transport: this.transport.description,
      opens: this.opens,
      reopenAttempts: this.backoff.attempts,
      lastOpenError: this.lastOpenError,
      devices: Object.fromEntries(this.devices.map((d) => [d.name, d.health()])),
    };
  }

  private async open(): Promise<void> {
    if (this.stopped()) return;
    this.setState('opening');
    try {
      await this.transport.open();
    } catch (err) {
      const e = classifyError(err);
      if (this.stopped()) return;
      if (e.errno === 'EACCES') throw e; // permission: the driver turns this into DriverUnavailableError
      this.scheduleReopen(e);
      return;
    }
    if (this.stopped()) {
      await this.transport.close();
      return;
    }
    this.opens++;
    this.backoff.reset();
    this.lastOpenError = undefined;
    this.setState('open');
    for (const lane of this.lanes) this.pump(lane);
  }

  private scheduleReopen(err: ModbusError): void {
    if (err.message !== this.lastOpenError) this.log.warn('modbus link unavailable; reopening with backoff', { transport: this.transport.description, error: err.message });
    this.lastOpenError = err.message;
    this.ctx.reportError(err);
    this.setState('backoff');
    this.clock.clearTimeout(this.reopenTimer);
    this.reopenTimer = this.clock.setTimeout(() => {
      this.open().catch((e: unknown) => this.scheduleReopen(classifyError(e)));
    }, this.backoff.next());
  }

  private linkLost(err: ModbusError): void {
    if (this.state !== 'open') return;
    for (const d of this.devices) {
      d.recordError(err, this.clock.now());
      for (const p of d.points) this.ctx.emit(p.id, NaN, 'bad');
      d.reads.length = 0;
      this.failWrites(d, err);
    }
    this.scheduleReopen(err);
    // Release the handle now so the port is free (and unlocked) when it comes back.
    this.transport.close().catch((e: unknown) => this.log.warn('closing lost modbus link failed', { error: classifyError(e).message }));
  }

  /** A method, not an inline comparison: the state changes across awaits, which TS narrowing cannot see. */
  private stopped(): boolean {
    return this.state === 'stopped';
  }

  private setState(s: LinkState): void {
    if (this.state === s || this.state === 'stopped') return;
    this.log.debug('modbus link state', { from: this.state, to: s });
    this.state = s;
  }

  private laneOf(d: DeviceState): Lane {
    return this.lanes.find((l) => l.devices.includes(d)) as Lane;
  }

  /** Run the next transaction of a lane if it is idle, else have the bus wake it for its next due point. */
  private pump(lane: Lane): void {
    if (lane.busy || this.state !== 'open') return;
    this.clock.clearTimeout(lane.timer);
    lane.timer = undefined;
    const now = this.clock.now();
    const n = lane.devices.length;
    for (let k = 0; k < n; k++) {
      const i = (lane.next + k) % n;
      const d = lane.devices[i];
      if (!d.hasWork()) d.startCycle(now);
      if (!d.hasWork()) continue;
      lane.next = (i + 1) % n;
      lane.busy = true;
      this.runTurn(d, () => this.turnDone(lane));
      return;
    }
    let wake = Infinity;
    for (const d of lane.devices) wake = Math.min(wake, d.nextWake());
    if (wake < this.wakeAt) this.armWake(wake, now);
  }

  /** Wake the idle lanes at `at` (earlier than the wake-up armed, if any). */
  private armWake(at: number, now: number): void {
    this.clock.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.clock.setTimeout(() => {
      this.wakeTimer = undefined;
      this.wakeAt = Infinity;
      for (const lane of this.lanes) this.pump(lane); // each one not due yet asks for the next wake-up
    }, Math.max(0, at - now));
  }

  /** A lane's transaction is over (answered or failed): the next one, after the inter-frame delay on a serial line. */
  private turnDone(lane: Lane): void {
    lane.busy = false;
    if (this.state !== 'open') return;
    if (this.ifd > 0) lane.timer = this.clock.setTimeout(() => this.pump(lane), this.ifd);
    else this.pump(lane);
  }

  /**
   * One transaction for a device: its oldest write, else its next read; then `done`,
   * whatever happened. Callbacks on the transport's promise rather than async functions:
   * on the polling path a transaction costs one promise, not a chain of four or five
   * (each await and the finally were a promise and a microtask per transaction).
   */
  private runTurn(d: DeviceState, done: () => void): void {
    const job: ReadJob | WriteJob = d.writes.length > 0 ? d.writes[0] : d.reads[0];
    const fail = (err: unknown) => {
      this.turnFailed(d, job, err).then(done, (e: unknown) => {
        this.log.error('modbus: handling a failed transaction failed', { device: d.name, error: classifyError(e).message });
        done();
      });
    };
    let sent: Promise<number[] | void>;
    try {
      sent = job.kind === 'write' ? job.run() : this.transport.read(d.config.unit, job.req.register, job.req.start, job.req.count, d.config.timeout);
    } catch (err) {
      fail(err);
      return;
    }
    sent.then((data) => {
      try {
        if (job.kind === 'read') this.deliver(d, job, data as number[]);
        d.transactions++;
        d.cycleAnswered = true;
        this.finish(d, job);
        if (job.kind === 'write') job.resolve();
      } catch (err) {
        fail(err);
        return;
      }
      done();
    }, fail);
  }

  /** An answered read: each point's value to the gateway. */
  private deliver(d: DeviceState, job: ReadJob, data: readonly number[]): void {
    const { req } = job;
    const now = this.clock.now();
    for (const p of req.points) {
      const v = d.decode(req, data, p);
      this.ctx.emit(p.id, v, typeof v === 'number' && !Number.isFinite(v) ? 'bad' : 'good', now);
    }
    if (job.split && ++job.split.ok === 2 && job.split.gap) d.learnForbidden(req.register, job.split.gap);
  }

  private async turnFailed(d: DeviceState, job: ReadJob | WriteJob, err: unknown): Promise<void> {
    const e = classifyError(err);
    if (this.state !== 'open') return; // link lost: linkLost() already failed everything
    d.recordError(e, this.clock.now());
    this.ctx.reportError(e, job.kind === 'read' ? job.req.points[0].id : undefined);
    await this.failed(d, job, e);
  }

  private async failed(d: DeviceState, job: ReadJob | WriteJob, e: ModbusError): Promise<void> {
    if (e.kind === 'exception') {
      d.cycleAnswered = true; // the device is there; it refused this request
      d.transactions++;
      if (job.kind === 'write') return this.finishWrite(d, job, e);
      const halves = e.code === ILLEGAL_DATA_ADDRESS ? splitRequest(job.req) : undefined;
      if (halves) {
        // Read the halves now, within this cycle; if both answer, the gap between them is the culprit.
        const gapFrom = halves[0].start + halves[0].count;
        const split = { gap: gapFrom < halves[1].start ? ([gapFrom, halves[1].start - 1] as const) : undefined, ok: 0 };
        d.reads.splice(0, 1, { kind: 'read', req: halves[0], attempt: 0, split }, { kind: 'read', req: halves[1], attempt: 0, split });
        return;
      }
      if (e.code === ILLEGAL_DATA_ADDRESS) {
        const p = job.req.points[0];
        d.learnForbidden(job.req.register, [p.address, p.address + p.words - 1]);
      }
      this.markBad(job);
      this.finish(d, job);
      return;
    }
    if (e.kind === 'timeout' || e.kind === 'frame') {
      await this.transport.flush().catch((err: unknown) => this.log.debug('flush failed', { error: classifyError(err).message }));
      if (job.attempt < d.config.retries) {
        job.attempt++; // stays at the head: retried on this device's next turn, other devices go first
        return;
      }
      if (job.kind === 'write') return this.finishWrite(d, job, e);
      // The device did not answer: give up on the rest of its cycle so it costs the bus one timeout.
      for (const j of d.reads) this.markBad(j);
      d.reads.length = 0;
      d.endCycle(this.clock.now());
      return;
    }
    if (e.kind === 'other') {
      if (job.kind === 'write') return this.finishWrite(d, job, e);
      this.markBad(job);
      this.finish(d, job);
      return;
    }
    // A port error on a request that linkLost() did not see (e.g. write on a closing port).
    this.linkLost(e);
  }

  private finishWrite(d: DeviceState, job: WriteJob, e: Error): void {
    d.writes.shift();
    job.reject(e);
  }

  private finish(d: DeviceState, job: ReadJob | WriteJob): void {
    if (job.kind === 'write') {
      d.writes.shift();
      return;
    }
    d.reads.shift();
    if (d.reads.length === 0) d.endCycle(this.clock.now());
  }

  private markBad(job: ReadJob): void {
    const now = this.clock.now();
    for (const p of job.req.points) this.ctx.emit(p.id, NaN, 'bad', now);
  }

  private failWrites(d: DeviceState, err: Error): void {
    for (const w of d.writes.splice(0)) w.reject(err);
  }
}
