/**
 * The Gateway wires the daemon together. Data flows one way each direction:
 *
 *  drivers/ (sim, modbus, gpio, adc, ble, zigbee)   each wrapped in a RunningDriver
 *      │ ctx.emit(sensor, value, quality, ts)          (restart policy, error counts)
 *      ▼
 *  ingest ── SensorTable.raw ──► Pipeline (per sensor: range → spike → scale → ...)
 *      │ cleaned Reading (or dropped)
 *      ▼
 *  Hub (synchronous fan-out, no I/O) ──► SensorTable (latest, staleness, CLI)
 *      │                              ──► rules engine ──► arbiter ──► RunningDriver.write
 *      ▼                                                     ▲
 *  Outbox (SQLite WAL, batched) ──► Uplink (MQTT) ── commands ┘ (validated, exactly once)
 *                                   status/health/data/events, results via the outbox
 *
 * Control socket and sd_notify sit beside this: they only read the GatewayView.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { STATE_DIR_MODE } from '../core/atomic-file';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Quality, Reading, ReadingValue } from '../core/reading';
import { ReadingFlag } from '../core/reading';
import type { LoadedConfig } from '../config/load';
import { driverKind } from '../../drivers';
import type { Driver, DriverContext } from '../../drivers/driver';
import { buildPipelines, type Pipeline, type TraceStep } from '../pipeline/pipeline';
import { Outbox } from '../outbox/outbox';
import { Hub } from './hub';
import { SensorTable } from './sensor-table';
import { RunningDriver } from './running-driver';
import { ClockSyncProbe } from './clock-sync';
import { ErrorLog } from './error-log';

export interface GatewayOptions {
  /** The parsed config (not its YAML source: the daemon does not keep the document in memory). */
  loaded: Pick<LoadedConfig, 'config' | 'sensors'>;
  stateDir: string;
  clock: Clock;
  log: Logger;
  /**
   * Replace the factory of a configured driver (by driver id). This is the test
   * seam for radios and pins: a fake BLE radio or GPIO chip is injected here and
   * everything above the driver's port runs for real.
   */
  driverFactories?: Record<string, (ctx: DriverContext) => Driver | Promise<Driver>>;
  /** Root for /run/systemd/timesync (tests). */
  systemRoot?: string;
}

/**
 * A window flush is armed for when the earliest open window is due, but never
 * further ahead than this: the timer runs on monotonic time while windows end on
 * wall time, so after a clock step (NTP at boot) a window still closes within 1 s.
 */
const MAX_FLUSH_WAIT_MS = 1000;

export class Gateway {
  readonly startedAt: number;
  readonly table: SensorTable;
  readonly hub: Hub;
  readonly outbox: Outbox;
  readonly drivers: RunningDriver[];
  readonly errors: ErrorLog;
  private readonly pipelines: Map<string, Pipeline>;
  private readonly publishes: Set<string>;
  private readonly sync: ClockSyncProbe;
  private readonly log: Logger;
  private readonly clock: Clock;
  private flushTimer?: TimerHandle;
  /** When the armed flush is due (wall-clock ms); undefined: none armed. */
  private flushDue?: number;
  /** The pipelines with a window stage (aggregate): the only ones a flush visits. */
  private readonly windowed: Pipeline[];
  private traceWaiters = new Map<string, ((steps: TraceStep[], out: Reading | null, raw: Reading) => void)[]>();
  private unknownSensorSamples = 0;
  private readonly unknownSensorIds = new Set<string>();
  /** After stop(): a reading a stopping driver still emits arms no flush. */
  private stopped = false;

  constructor(private readonly opts: GatewayOptions) {
    const { loaded, clock, log } = opts;
    this.clock = clock;
    this.log = log;
    this.startedAt = clock.now();
    this.errors = new ErrorLog(clock, 20);
    this.table = new SensorTable(loaded.sensors, this.startedAt);
    this.hub = new Hub((err) => this.errors.add('hub', errorMessage(err)));
    this.pipelines = buildPipelines(loaded.sensors, { clock, latest: (id) => this.table.latest(id) });
    this.windowed = [...this.pipelines.values()].filter((p) => p.flushable);
    this.publishes = new Set(loaded.sensors.filter((s) => s.publish).map((s) => s.id));
    this.sync = new ClockSyncProbe(loaded.config.gateway.clockSync, clock, opts.systemRoot);
    fs.mkdirSync(opts.stateDir, { recursive: true, mode: STATE_DIR_MODE });
    this.outbox = new Outbox({
      path: path.join(opts.stateDir, 'outbox.db'),
      config: loaded.config.outbox,
      // A data message is then whole stored chunks (see OutboxOptions.chunkReadings).
      chunkReadings: loaded.config.uplink?.batch.maxReadings,
      clock,
      log: log.child({ component: 'outbox' }),
    });
    this.hub.subscribe(this.table);
    this.drivers = loaded.config.drivers.map((d) => this.runningDriver(d));
  }

  /**
   * Start drivers and timers. Resolves once every driver made its first start
   * attempt, or after `firstStartWaitMs` (a slow radio must not hold up the rest).
   */
  async start(firstStartWaitMs = 10_000): Promise<void> {
    // The outbox is the last sink: control loops subscribed before start() see a
    // reading before a batch-full SQLite commit can delay it.
    this.hub.subscribe({ accept: (r) => (this.publishes.has(r.sensor) ? this.outbox.add(r) : undefined) });
    const first = Promise.all(this.drivers.map((d) => d.start()));
    let timer: TimerHandle | undefined;
    const cap = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, firstStartWaitMs)));
    await Promise.race([first, cap]);
    this.clock.clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushDue = undefined;
    this.stopped = true;
    await Promise.all(this.drivers.map((d) => d.stop()));
    this.flushWindows();
    this.outbox.flush();
  }

  /** Close the outbox last, after the uplink has stopped using it. */
  close(): void {
    this.outbox.close();
  }

  /**
   * A raw sample from a driver (taken at `sampledAt`, default now): into its pipeline,
   * then to every sink. Synchronous. At most one clock read, none when the driver
   * gives the sample time: the clock-sync check tells from `ts` whether its cached
   * answer is fresh, and reads the clock itself only when it is not.
   */
  ingest(sensor: string, value: ReadingValue, quality: Quality = 'good', sampledAt?: number): void {
    const ts = sampledAt ?? this.clock.now();
    const state = this.table.raw(sensor, value, ts, quality);
    const pipeline = this.pipelines.get(sensor);
    if (!state || !pipeline) {
      // A driver bug, not a field fault: counted (heartbeat) and logged once per id.
      this.unknownSensorSamples++;
      if (!this.unknownSensorIds.has(sensor) && this.unknownSensorIds.size < 100) {
        this.unknownSensorIds.add(sensor);
        this.log.warn('sample for a sensor that is not configured; ignored', { sensor });
      }
      return;
    }
    const r: Reading = { sensor, ts, value, quality, flags: this.sync.isSynced(ts) ? 0 : ReadingFlag.CLOCK_UNSYNCED };
    const waiters = this.traceWaiters.size > 0 ? this.traceWaiters.get(sensor) : undefined; // no look-up while nobody traces
    let out: Reading | null;
    if (waiters) {
      this.traceWaiters.delete(sensor);
      const raw = { ...r };
      const steps: TraceStep[] = [];
      out = pipeline.traced(r, steps);
      for (const w of waiters) w(steps, out, raw);
    } else out = pipeline.process(r);
    if (pipeline.flushable) this.armFlush(pipeline.nextFlush());
    if (out) this.hub.publish(out);
    else {
      this.table.noteDropped(sensor);
      if (pipeline.lastDropSuppressed && r.quality !== 'bad') this.hub.sampled(sensor, ts);
    }
  }

  /** Resolve with the pipeline trace of the next raw sample of `sensor`. */
  nextTrace(sensor: string, timeoutMs: number): Promise<{ steps: TraceStep[]; out: Reading | null; raw: Reading }> {
    if (!this.pipelines.has(sensor)) return Promise.reject(new Error(`unknown sensor "${sensor}"`));
    return new Promise((resolve, reject) => {
      const list = this.traceWaiters.get(sensor) ?? [];
      const waiter = (steps: TraceStep[], out: Reading | null, raw: Reading) => {
        this.clock.clearTimeout(timer);
        resolve({ steps, out, raw });
      };
      const timer = this.clock.setTimeout(() => {
        const rest = (this.traceWaiters.get(sensor) ?? []).filter((w) => w !== waiter);
        if (rest.length) this.traceWaiters.set(sensor, rest);
        else this.traceWaiters.delete(sensor);
        reject(new Error(`no sample from "${sensor}" within ${timeoutMs} ms`));
      }, timeoutMs);
      list.push(waiter);
      this.traceWaiters.set(sensor, list);
    });
  }

  driver(id: string): RunningDriver | undefined {
    return this.drivers.find((d) => d.id === id);
  }

  get unknownSamples(): number {
    return this.unknownSensorSamples;
  }

  /** Close the windows that are due, then arm the flush for the next one (if any window is open). */
  private flushWindows(): void {
    const now = this.clock.now();
    let next: number | undefined;
    for (const p of this.windowed) {
      for (const r of p.flush(now)) this.hub.publish(r);
      const at = p.nextFlush();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    this.armFlush(next);
  }

  /** Make sure a flush runs by `at` (wall-clock ms); an earlier one already armed stands. */
  private armFlush(at: number | undefined): void {
    if (at === undefined || this.stopped || (this.flushDue !== undefined && this.flushDue <= at)) return;
    this.clock.clearTimeout(this.flushTimer);
    this.flushDue = at;
    const wait = Math.min(MAX_FLUSH_WAIT_MS, Math.max(0, at - this.clock.now()));
    this.flushTimer = this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flushDue = undefined;
      this.flushWindows();
    }, wait);
  }

  private runningDriver(d: { kind: string; id: string }): RunningDriver {
    const kind = driverKind(d.kind);
    const override = this.opts.driverFactories?.[d.id];
    const stateDir = path.join(this.opts.stateDir, 'drivers', d.id);
    const rd: RunningDriver = new RunningDriver({
      id: d.id,
      kind: d.kind,
      clock: this.clock,
      log: this.log.child({ component: 'driver' }),
      restart: { initialMs: this.opts.loaded.config.gateway.driverRestart.initial, maxMs: this.opts.loaded.config.gateway.driverRestart.max },
      create: async (ctx) => {
        fs.mkdirSync(stateDir, { recursive: true, mode: STATE_DIR_MODE });
        return override ? override(ctx) : kind.create(d, ctx);
      },
      context: {
        id: d.id,
        clock: this.clock,
        stateDir,
        emit: (sensor, value, quality, ts) => {
          try {
            this.ingest(sensor, value, quality, ts);
          } catch (err) {
            // A faulty stage must not take the driver down with it.
            this.table.noteError(sensor, errorMessage(err));
            rd.recordError(err);
          }
        },
      },
      onError: (message) => this.errors.add(`driver:${d.id}`, message),
    });
    return rd;
  }
}
