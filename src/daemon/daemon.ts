import type { Clock } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Reading } from '../core/reading';
import { VERSION } from '../core/version';
import type { LoadedConfig } from '../config/load';
import type { Driver, DriverContext } from '../../drivers/driver';
import { Uplink, type MqttFactory } from '../uplink/uplink';
import { Gateway } from './gateway';
import { systemHealth } from './system-health';
import type { BufferStats, CommandResultView, GatewayView, RuleRow, SensorRow, StageTrace, StatusSnapshot } from './view';

export interface DaemonOptions {
  loaded: LoadedConfig;
  stateDir: string;
  rulesDir?: string;
  clock: Clock;
  log: Logger;
  driverFactories?: Record<string, (ctx: DriverContext) => Driver | Promise<Driver>>;
  mqttFactory?: MqttFactory;
  systemRoot?: string;
}

/**
 * The running daemon: the Gateway (drivers → pipelines → hub → outbox) plus the
 * uplink and the local control loops, seen from outside through GatewayView.
 * Start order: outbox (in Gateway) → uplink → drivers; stop order is the reverse,
 * with the outbox flushed before the uplink publishes its clean "offline".
 */
export class Daemon implements GatewayView {
  readonly gateway: Gateway;
  readonly uplink?: Uplink;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log;
    this.clock = opts.clock;
    this.gateway = new Gateway({
      loaded: opts.loaded,
      stateDir: opts.stateDir,
      rulesDir: opts.rulesDir,
      clock: opts.clock,
      log: opts.log,
      driverFactories: opts.driverFactories,
      systemRoot: opts.systemRoot,
    });
    const uplinkConfig = opts.loaded.config.uplink;
    if (uplinkConfig) {
      this.uplink = new Uplink({
        config: uplinkConfig,
        gatewayId: opts.loaded.config.gateway.id,
        outbox: this.gateway.outbox,
        clock: opts.clock,
        log: opts.log,
        health: () => this.heartbeat(),
        mqttFactory: opts.mqttFactory,
      });
    }
  }

  async start(): Promise<void> {
    if (this.uplink) this.uplink.start();
    else this.log.warn('no uplink configured: readings are kept in the outbox only');
    await this.gateway.start();
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
    if (this.uplink) {
      try {
        await this.uplink.stop();
      } catch (err) {
        this.log.error('uplink stop failed', { error: errorMessage(err) });
      }
    }
    this.gateway.close();
  }

  /** The heartbeat document published on .../health. */
  heartbeat(): Record<string, unknown> {
    const now = this.clock.now();
    const s = this.status();
    return {
      ts: now,
      version: VERSION,
      uptimeS: s.uptimeS,
      healthy: s.healthy,
      problems: s.problems,
      system: systemHealth(this.opts.stateDir),
      outbox: s.outbox,
      drivers: s.drivers.map((d) => ({ id: d.id, kind: d.kind, state: d.state, errors: d.errors, lastError: d.lastError })),
      sensors: Object.fromEntries(
        this.sensors(now).map((r) => [r.id, { lastSeen: r.ts ?? null, quality: r.quality ?? null, stale: r.stale, errors: r.errors }]),
      ),
      rules: s.rules,
    };
  }

  status(): StatusSnapshot {
    const now = this.clock.now();
    const drivers = this.gateway.drivers.map((d) => d.row());
    const outbox = this.buffer();
    const uplink = this.uplink ? { ...this.uplink.stats() } : { state: 'disabled' };
    const problems: string[] = [];
    for (const d of drivers) {
      if (d.state === 'backoff') problems.push(`driver ${d.id} is restarting: ${d.lastError ?? 'start failed'}`);
      if (d.state === 'unavailable') problems.push(`driver ${d.id} unavailable: ${d.lastError ?? 'hardware not found'}${d.fix ? ` (fix: ${d.fix})` : ''}`);
    }
    if (this.uplink && this.uplink.state !== 'online') problems.push(`uplink is ${this.uplink.state}`);
    return {
      version: VERSION,
      gateway: this.opts.loaded.config.gateway.id,
      uptimeS: Math.round((now - this.gateway.startedAt) / 1000),
      healthy: problems.length === 0,
      problems,
      drivers,
      uplink,
      outbox,
      rules: { loaded: 0, active: 0 },
      lastErrors: this.gateway.errors.list(),
    };
  }

  sensors(now = this.clock.now()): SensorRow[] {
    return this.gateway.table.all().map((s) => ({
      id: s.id,
      driver: s.driver,
      value: s.last?.value,
      unit: s.unit,
      quality: s.last?.quality,
      ts: s.last?.ts,
      ageMs: s.last ? now - s.last.ts : undefined,
      stale: this.gateway.table.isStale(s.id, now),
      errors: s.errors,
      lastError: s.lastError,
    }));
  }

  async readFresh(sensor: string, timeoutMs: number): Promise<StageTrace> {
    const { steps, out, raw } = await this.gateway.nextTrace(sensor, timeoutMs);
    return {
      sensor,
      ts: raw.ts,
      raw: { value: raw.value, quality: raw.quality },
      stages: steps.filter((s) => s.stage !== 'raw').map((s) => ({ stage: s.stage, value: s.value, quality: s.quality, dropped: s.dropped })),
      output: out ? { value: out.value, quality: out.quality } : undefined,
    };
  }

  subscribeReadings(listener: (r: Reading) => void): () => void {
    return this.gateway.hub.subscribe({ accept: listener });
  }

  async actuate(actuator: string, _value: unknown): Promise<CommandResultView> {
    return { id: `local-${this.clock.now()}`, ok: false, error: `unknown actuator "${actuator}"`, ts: this.clock.now() };
  }

  rules(): RuleRow[] {
    return [];
  }

  buffer(): BufferStats {
    const s = this.gateway.outbox.stats();
    const now = this.clock.now();
    return {
      depth: s.depth,
      messages: s.messages,
      oldestTs: s.oldestTs ?? undefined,
      oldestAgeMs: s.oldestTs === null ? undefined : now - s.oldestTs,
      evicted: s.evicted,
      rejected: s.rejected,
      bytes: s.bytes,
    };
  }

  async driverCall(driverId: string, op: string, args: unknown[]): Promise<unknown> {
    const rd = this.gateway.driver(driverId);
    if (!rd) throw new Error(`unknown driver "${driverId}"`);
    const inst = rd.instance as unknown as Record<string, unknown> | undefined;
    if (!inst) throw new Error(`driver ${driverId} is ${rd.state}${rd.lastError ? `: ${rd.lastError}` : ''}`);
    const ops = (inst.operations as readonly string[] | undefined) ?? [];
    const fn = inst[op];
    if (!ops.includes(op) || typeof fn !== 'function') {
      throw new Error(`driver ${driverId} has no operation "${op}"${ops.length ? ` (operations: ${ops.join(', ')})` : ''}`);
    }
    return (fn as (...a: unknown[]) => unknown).apply(inst, args);
  }
}
