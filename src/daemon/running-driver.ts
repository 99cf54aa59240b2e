import { Backoff } from '../core/backoff';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { DriverUnavailableError, type Driver, type DriverContext } from '../../drivers/driver';
import type { DriverRow } from './view';

export type DriverState = DriverRow['state'];

export interface RunningDriverOptions {
  id: string;
  kind: string;
  clock: Clock;
  log: Logger;
  /** Builds the driver; called once per (re)start so a failed instance is never reused. */
  create: (ctx: DriverContext) => Driver | Promise<Driver>;
  context: Omit<DriverContext, 'reportError' | 'log'>;
  restart: { initialMs: number; maxMs: number };
  /** Retry pace for drivers whose hardware is unavailable. */
  unavailableRetryMs?: number;
  onError?: (message: string) => void;
}

/**
 * The framework's wrapper around one driver (Telegraf's running_input): tags its
 * logger, counts errors, and owns the start-up and restart policy so the driver
 * itself only speaks its protocol. A create() or start() that throws or rejects
 * leads to stop() and a new instance after a backoff. Runtime faults a driver
 * reports through ctx.reportError are counted; drivers that lose their hardware
 * while running (an unplugged adapter) retry it themselves and say so in health().
 *
 *   starting ──ok──► running
 *      │ fail
 *      ▼
 *   backoff ──timer──► starting
 *   unavailable (DriverUnavailableError) ──slow timer──► starting
 *   any ──stop()──► stopped
 */
export class RunningDriver {
  state: DriverState = 'stopped';
  restarts = 0;
  errors = 0;
  lastError?: string;
  fix?: string;
  private driver?: Driver;
  private timer?: TimerHandle;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  private stopping = false;
  private generation = 0;

  constructor(private readonly opts: RunningDriverOptions) {
    this.log = opts.log.child({ driver: opts.id, kind: opts.kind });
    this.backoff = new Backoff({ initialMs: opts.restart.initialMs, maxMs: opts.restart.maxMs, minMs: Math.min(250, opts.restart.initialMs) });
  }

  get id(): string {
    return this.opts.id;
  }

  get instance(): Driver | undefined {
    return this.state === 'running' ? this.driver : undefined;
  }

  /** Begin; resolves when the first start attempt has succeeded or failed (never rejects). */
  start(): Promise<void> {
    this.stopping = false;
    return this.attempt();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.generation++;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const d = this.driver;
    this.driver = undefined;
    this.transition('stopped');
    if (d) await this.safeStop(d);
  }

  /** Write through the running driver; rejects clearly when it is not running. */
  async write(target: unknown, value: number | boolean): Promise<void> {
    const d = this.instance;
    if (!d) throw new Error(`driver ${this.opts.id} is ${this.state}${this.lastError ? `: ${this.lastError}` : ''}`);
    if (!d.write) throw new Error(`driver ${this.opts.id} (${this.opts.kind}) cannot write`);
    await d.write(target, value);
  }

  row(): DriverRow {
    let detail: Record<string, unknown> | undefined;
    try {
      detail = this.driver?.health?.();
    } catch (err) {
      detail = { healthError: errorMessage(err) };
    }
    // Drivers that retry their hardware themselves (a Zigbee coordinator, a serial
    // adapter) stay `running` for the supervisor but say `available: false`.
    const selfReported = this.state === 'running' && detail?.available === false;
    return {
      id: this.opts.id,
      kind: this.opts.kind,
      state: selfReported ? 'unavailable' : this.state,
      restarts: this.restarts,
      errors: this.errors,
      lastError: selfReported && typeof detail?.lastError === 'string' ? detail.lastError : this.lastError,
      fix: selfReported && typeof detail?.fix === 'string' ? detail.fix : this.fix,
      detail,
    };
  }

  /** Record a runtime error reported by the driver; logged when the message changes. */
  recordError(err: unknown): void {
    this.errors++;
    const msg = errorMessage(err);
    if (msg !== this.lastError) this.log.warn('driver error', { error: msg, errors: this.errors });
    this.lastError = msg;
    this.opts.onError?.(`${this.opts.id}: ${msg}`);
  }

  private async attempt(): Promise<void> {
    if (this.stopping) return;
    const gen = ++this.generation;
    this.transition('starting');
    let driver: Driver | undefined;
    try {
      driver = await this.opts.create({
        ...this.opts.context,
        log: this.log,
        reportError: (err) => this.recordError(err),
      });
      this.driver = driver;
      await driver.start();
      if (gen !== this.generation) return; // stopped meanwhile
      this.backoff.reset();
      this.fix = undefined;
      this.transition('running');
    } catch (err) {
      if (gen !== this.generation) return;
      this.driver = undefined;
      if (driver) await this.safeStop(driver);
      this.recordError(err);
      if (err instanceof DriverUnavailableError) {
        this.fix = err.fix;
        this.transition('unavailable', { reason: err.message, fix: err.fix });
        this.schedule(this.opts.unavailableRetryMs ?? 60_000);
      } else {
        const delay = this.backoff.next();
        this.transition('backoff', { error: errorMessage(err), retryInMs: delay });
        this.schedule(delay);
      }
    }
  }

  private schedule(ms: number): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = undefined;
      this.restarts++;
      void this.attempt();
    }, ms);
  }

  private async safeStop(d: Driver): Promise<void> {
    try {
      await d.stop();
    } catch (err) {
      this.recordError(err);
    }
  }

  private transition(next: DriverState, fields?: Record<string, unknown>): void {
    if (next === this.state) return;
    const level = next === 'backoff' || next === 'unavailable' ? 'warn' : 'info';
    this.log[level](`driver ${this.state} -> ${next}`, fields);
    this.state = next;
  }
}
