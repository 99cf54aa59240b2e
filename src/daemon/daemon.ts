import type { Clock } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Reading } from '../core/reading';
import { VERSION } from '../core/version';
import type { LoadedConfig } from '../config/load';
import { isOperable, type Driver, type DriverContext } from '../../drivers/driver';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Uplink, type MqttFactory } from '../uplink/uplink';
import { uplinkTopics, type UplinkTopics } from '../uplink/topics';
import { Arbiter } from '../arbiter/arbiter';
import type { ControlEvent } from '../arbiter/event';
import { CommandHandler, type CommandMeta, type CommandResult } from '../commands/commands';
import { CommandLog } from '../commands/command-log';
import { RulesEngine } from '../rules/engine';
import { RuleWatcher } from '../rules/watcher';
import { loadRuleSet } from '../rules/load';
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
  readonly arbiter: Arbiter;
  readonly engine: RulesEngine;
  readonly commands: CommandHandler;
  readonly topics: UplinkTopics;
  private readonly watcher?: RuleWatcher;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly opts: Omit<DaemonOptions, 'loaded'> & { loaded: Pick<LoadedConfig, 'config' | 'sensors'> };

  constructor(options: DaemonOptions) {
    // Keep the parsed config but not its YAML document (a node per scalar, with positions):
    // it is only needed to report config errors, which happens before a daemon exists.
    const opts = { ...options, loaded: { config: options.loaded.config, sensors: options.loaded.sensors } };
    this.opts = opts;
    this.log = opts.log;
    this.clock = opts.clock;
    this.gateway = new Gateway({
      loaded: opts.loaded,
      stateDir: opts.stateDir,
      clock: opts.clock,
      log: opts.log,
      driverFactories: opts.driverFactories,
      systemRoot: opts.systemRoot,
    });
    const config = opts.loaded.config;
    this.topics = uplinkTopics(config.uplink?.topicPrefix ?? 'fieldgate', config.gateway.id);
    const publishEvent = (ev: ControlEvent) => this.publishEvent(ev);
    this.arbiter = new Arbiter({
      actuators: config.actuators,
      write: (id, target, value) => this.writeActuator(id, target, value),
      clock: opts.clock,
      log: opts.log,
      publishEvent,
    });
    this.engine = new RulesEngine({ clock: opts.clock, log: opts.log, arbiter: this.arbiter, publishEvent, sensors: this.gateway.table });
    this.gateway.hub.subscribe(this.engine);
    this.commands = new CommandHandler({
      arbiter: this.arbiter,
      clock: opts.clock,
      log: opts.log,
      publishResult: (actuator, result, meta) => this.publishResult(actuator, result, meta),
      commandLog: new CommandLog({ file: path.join(opts.stateDir, 'commands.json'), log: opts.log.child({ component: 'commands' }) }),
    });
    const rulesDir = opts.rulesDir;
    if (rulesDir) {
      const sensors = new Set(opts.loaded.sensors.map((s) => s.id));
      const actuators = new Map(config.actuators.map((a) => [a.id, a]));
      this.watcher = new RuleWatcher({
        dir: rulesDir,
        clock: opts.clock,
        log: opts.log,
        publishEvent,
        load: () => loadRuleSet(rulesDir, { sensors, actuators }),
        apply: (set) => this.engine.load(set),
      });
    }
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
      this.uplink.onCommand((actuator, payload, meta) => {
        this.commands.handleCommand(actuator, payload, meta, 'cloud');
      });
    }
  }

  /**
   * Start order: uplink (connects in the background) → rules (in place before the
   * first reading) → drivers → arbiter (writes initial values through the drivers).
   */
  async start(): Promise<void> {
    if (this.uplink) this.uplink.start();
    else this.log.warn('no uplink configured: readings are kept in the outbox only');
    if (this.watcher) {
      if (!fs.existsSync(this.opts.rulesDir ?? '')) {
        this.log.warn('rules directory does not exist; running without rules (it is watched)', { dir: this.opts.rulesDir });
      }
      this.watcher.start();
    }
    this.engine.start();
    await this.gateway.start();
    this.arbiter.start();
  }

  /**
   * Stop order: rules → failsafe values written through the still-running
   * drivers → drivers → outbox flushed → uplink publishes "offline" → outbox closed.
   */
  async stop(): Promise<void> {
    this.watcher?.stop();
    this.engine.stop();
    await this.arbiter.shutdown().catch((err: unknown) => this.log.error('failsafe on shutdown failed', { error: errorMessage(err) }));
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
      unknownSensorSamples: this.gateway.unknownSamples,
      drivers: s.drivers.map((d) => ({ id: d.id, kind: d.kind, state: d.state, errors: d.errors, lastError: d.lastError, fix: d.fix })),
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
    problems.push(...(this.uplink?.problems() ?? []), ...this.gateway.outbox.problems());
    const watch = this.watcher?.status();
    const engine = this.engine.status();
    if (watch?.lastReloadError) problems.push(`rules rejected: ${watch.lastReloadError}`);
    for (const a of this.arbiter.status()) if (a.failing) problems.push(`actuator ${a.id} write failing: ${a.lastError ?? 'error'}`);
    return {
      version: VERSION,
      gateway: this.opts.loaded.config.gateway.id,
      uptimeS: Math.round((now - this.gateway.startedAt) / 1000),
      healthy: problems.length === 0,
      problems,
      drivers,
      uplink,
      outbox,
      rules: { loaded: engine.loaded, active: engine.active, lastReload: watch?.lastReload, lastReloadError: watch?.lastReloadError },
      actuators: this.arbiter.status(),
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

  async actuate(actuator: string, value: unknown): Promise<CommandResultView> {
    // On site people type `fieldgate actuate furnace on`; the cloud must send true/false.
    const isBool = this.arbiter.config(actuator)?.type === 'bool';
    const v = isBool && typeof value === 'string' && /^(on|off)$/i.test(value) ? value.toLowerCase() === 'on' : value;
    return this.commands.actuate(actuator, v);
  }

  rules(): RuleRow[] {
    return this.engine.rules();
  }

  /** Events and alarms go through the outbox (kept until last on eviction). */
  private publishEvent(ev: ControlEvent): void {
    this.log.info('event', { type: ev.type, severity: ev.severity, source: ev.source, message: ev.message });
    this.gateway.outbox.addMessage({ topic: this.topics.events, payload: JSON.stringify(ev), priority: 'event' });
  }

  /** Command results: on the MQTT 5 response topic when given, else .../cmd/<actuator>/result. */
  private publishResult(actuator: string, result: CommandResult, meta: CommandMeta): void {
    this.gateway.outbox.addMessage({
      topic: meta.responseTopic ?? this.topics.commandResult(actuator),
      payload: JSON.stringify(result),
      priority: 'result',
      properties: meta.correlationData ? { correlationData: meta.correlationData } : undefined,
    });
  }

  private async writeActuator(id: string, target: unknown, value: boolean | number): Promise<void> {
    const a = this.opts.loaded.config.actuators.find((x) => x.id === id);
    const rd = a && this.gateway.driver(a.driver);
    if (!rd) throw new Error(`actuator ${id}: driver not configured`);
    await rd.write(target, value);
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
    const inst = rd.instance;
    if (!inst) throw new Error(`driver ${driverId} is ${rd.state}${rd.lastError ? `: ${rd.lastError}` : ''}`);
    const ops = isOperable(inst) ? inst.operations : {};
    if (!Object.hasOwn(ops, op)) {
      const names = Object.keys(ops);
      throw new Error(`driver ${driverId} has no operation "${op}"${names.length ? ` (operations: ${names.join(', ')})` : ''}`);
    }
    return ops[op](args);
  }
}
