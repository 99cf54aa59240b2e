import { everyOnGrid, systemClock, type Clock, type GridTimer } from '../core/clock';
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
import { importLegacyCommandLog } from '../commands/legacy-log';
import { actuatorTargetValue } from '../../drivers';
import { RulesEngine } from '../rules/engine';
import { RuleWatcher } from '../rules/watcher';
import { loadRuleSet, parseRuleTexts } from '../rules/load';
import { LastKnownGood } from '../rules/last-known-good';
import type { Owner } from '../arbiter/arbiter';
import { Gateway } from './gateway';
import { systemHealth } from './system-health';
import { assessHealth, EvictionWatch } from './health';
import { AlarmRegistry } from './alarms';
import { ActuatorStates } from './actuator-state';
import { sensorCondition, SensorMonitor, type SensorView } from './sensor-monitor';
import type { SensorState } from './sensor-table';
import { intParam, onlyParams, RequestHandler, type RequestKind } from '../commands/requests';
import type { LogRing } from '../core/log-ring';
import type { TimerHandle } from '../core/clock';
import type { OutboxMessage } from '../outbox/types';
import { Deployer } from '../deploy/deployer';
import { LoopLag } from './loop-lag';
import { MAX_DEPLOY_PAYLOAD_BYTES } from '../deploy/bundle';
import { checkConfigText } from '../deploy/config-check';
import type { AlarmView, BufferStats, CommandResultView, GatewayView, RuleRow, SensorRow, StageTrace, StatusSnapshot } from './view';

/**
 * Sensors (stale, bad), the deployer's confirm window and a reconnect (everything
 * retained again) are checked this often. Actuator state documents do not wait for
 * it: the arbiter says when a state may have changed (see stateChanged()).
 */
const STATE_TICK_MS = 1000;
/**
 * A change's state document waits this long for the change to settle: a hold and
 * the driver's answer to its write usually come within it, and make one document.
 */
const STATE_SETTLE_MS = 50;

const NO_RULES_OWNER: Owner = { key: 'failsafe:no-rules', label: 'no valid rules (rules rejected at start-up, no last-known-good set)', priority: 'failsafe' };

export interface DaemonOptions {
  loaded: LoadedConfig;
  stateDir: string;
  rulesDir?: string;
  clock: Clock;
  log: Logger;
  driverFactories?: Record<string, (ctx: DriverContext) => Driver | Promise<Driver>>;
  mqttFactory?: MqttFactory;
  systemRoot?: string;
  /** The recent log lines (`req/logs`); the daemon's logger keeps them (see run.ts). */
  logRing?: LogRing;
  /** The config file, for config deploys (with requestRestart: stop and exit EXIT_RESTART so systemd restarts it). */
  configFile?: string;
  requestRestart?: (why: string) => void;
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
  private readonly deployer?: Deployer;
  private readonly evictions = new EvictionWatch();
  private readonly alarmRegistry: AlarmRegistry;
  private readonly actuatorStates: ActuatorStates;
  private readonly sensorMonitor: SensorMonitor;
  private stateTimer?: GridTimer;
  /** The actuator state check the arbiter asked for, run once its current turn is done. */
  private stateCheck?: TimerHandle;
  private stopping = false;
  private wasOnline = false;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly opts: Omit<DaemonOptions, 'loaded'> & { loaded: Pick<LoadedConfig, 'config' | 'sensors'> };
  private readonly results: OutboxMessage[] = [];
  private resultsFlush: NodeJS.Immediate | undefined;
  /** Event-loop delay since start (status and heartbeat): how late the daemon's timers fire (see LoopLag). */
  private readonly loopDelay: LoopLag;

  constructor(options: DaemonOptions) {
    // Keep the parsed config but not its YAML document (a node per scalar, with positions):
    // it is only needed to report config errors, which happens before a daemon exists.
    // Every timer of the daemon (drivers, uplink, rules, arbiter) goes through the lag meter's clock.
    const monotonic = options.clock === systemClock ? () => performance.now() : () => options.clock.now();
    this.loopDelay = new LoopLag({ clock: options.clock, monotonic });
    const clock = this.loopDelay.wrap(options.clock);
    const opts = { ...options, clock, loaded: { config: options.loaded.config, sensors: options.loaded.sensors } };
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
    this.alarmRegistry = new AlarmRegistry(() => opts.clock.now());
    this.actuatorStates = new ActuatorStates((id, doc) =>
      this.gateway.outbox.addMessage({ topic: this.topics.state(id), payload: JSON.stringify(doc), priority: 'event', retain: true }),
    );
    this.sensorMonitor = new SensorMonitor({ publishEvent });
    const targetValue = actuatorTargetValue(config.drivers);
    this.arbiter = new Arbiter({
      actuators: config.actuators,
      targetValue,
      write: (id, target, value) => this.writeActuator(id, target, value),
      clock: opts.clock,
      log: opts.log,
      publishEvent,
      onChange: () => this.stateChanged(),
    });
    this.engine = new RulesEngine({ clock: opts.clock, log: opts.log, arbiter: this.arbiter, publishEvent, sensors: this.gateway.table });
    this.gateway.hub.subscribe(this.engine);
    // Ids are remembered at least as long as the broker may redeliver them (the MQTT session).
    const dedupWindow = Math.max(config.commands.dedupWindow, config.uplink?.sessionExpiry ?? 0);
    const commandLog = new CommandLog({ file: path.join(opts.stateDir, 'commands.db'), clock: opts.clock, window: dedupWindow, log: opts.log.child({ component: 'commands' }) });
    importLegacyCommandLog({ file: path.join(opts.stateDir, 'commands.json'), commandLog, clock: opts.clock, log: opts.log.child({ component: 'commands' }) });
    this.commands = new CommandHandler({
      arbiter: this.arbiter,
      clock: opts.clock,
      log: opts.log,
      config: config.commands,
      publishResult: (actuator, result, meta) => this.publishResult(actuator, result, meta),
      commandLog,
      responseTopics: { allowed: [`${this.topics.base}/#`, ...config.commands.responseTopics], commandFilter: this.topics.commandFilter },
      targetValue,
    });
    const rulesDir = opts.rulesDir;
    if (rulesDir) {
      const sensors = new Set(opts.loaded.sensors.map((s) => s.id));
      const actuators = new Map(config.actuators.map((a) => [a.id, a]));
      // One context for every rule set: the directory's, the last-known-good one and a deployed one.
      const ruleCtx = { sensors, actuators, targetValue };
      this.watcher = new RuleWatcher({
        dir: rulesDir,
        clock: opts.clock,
        log: opts.log,
        publishEvent,
        load: () => loadRuleSet(rulesDir, ruleCtx),
        apply: (set) => {
          this.engine.load(set);
          this.deployer?.observe(set.sources);
        },
        lastKnownGood: {
          store: new LastKnownGood(path.join(opts.stateDir, 'rules', 'last-known-good.json'), opts.log.child({ component: 'rules' })),
          parse: (texts) => parseRuleTexts(texts, ruleCtx),
        },
        onNoRules: (none) => this.holdFailsafeForNoRules(none),
      });
      const watcher = this.watcher;
      this.deployer = new Deployer({
        ...config.deploy,
        rulesDir,
        stateDir: opts.stateDir,
        clock: opts.clock,
        log: opts.log,
        publishEvent,
        validate: (texts) => parseRuleTexts(texts, ruleCtx),
        reload: () => watcher.reload(),
        notConfirmable: () => {
          if (this.uplink?.state !== 'online') return `the uplink is ${this.uplink?.state ?? 'not configured'}, not online`;
          const s = this.status();
          return s.level === 'failed' ? `health is failed (${s.problems.join('; ')})` : undefined;
        },
        config:
          opts.configFile && opts.requestRestart
            ? { file: opts.configFile, text: readText(opts.configFile), gatewayId: config.gateway.id, check: (text) => checkConfigText(opts.configFile ?? '', text), restart: opts.requestRestart }
            : undefined,
        publishFinal: (r) => this.gateway.outbox.addMessage({ topic: this.topics.requestResult('deploy'), payload: JSON.stringify({ ...r, final: true }), priority: 'result' }),
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
        birth: () => this.birthFacts(),
        mqttFactory: opts.mqttFactory,
      });
      this.uplink.onCommand((actuator, payload, meta) => {
        this.commands.handleCommand(actuator, payload, meta, 'cloud');
      });
      const requests = new RequestHandler({
        clock: opts.clock,
        log: opts.log.child({ component: 'requests' }),
        kinds: this.requestKinds(),
        maxPayloadBytes: { deploy: MAX_DEPLOY_PAYLOAD_BYTES },
        responseTopics: {
          allowed: [`${this.topics.base}/#`, ...config.commands.responseTopics],
          commandFilter: this.topics.commandFilter,
          requestFilter: this.topics.requestFilter,
        },
        publish: (name, result, meta) =>
          this.gateway.outbox.addMessage({
            topic: meta.responseTopic ?? this.topics.requestResult(name),
            payload: JSON.stringify(result),
            priority: 'result',
            properties: meta.correlationData ? { correlationData: meta.correlationData } : undefined,
          }),
      });
      this.uplink.onRequest((name, payload, meta) => requests.handle(name, payload, meta));
    }
  }

  /**
   * Start order: uplink (connects in the background) → rules (in place before the
   * first reading) → drivers → arbiter (writes initial values through the drivers).
   */
  async start(): Promise<void> {
    this.loopDelay.enable();
    if (this.uplink) this.uplink.start();
    else this.log.warn('no uplink configured: readings are kept in the outbox only');
    this.watcher?.start();
    this.deployer?.start();
    this.engine.start();
    await this.gateway.start();
    this.arbiter.start();
    this.stateTimer = everyOnGrid(this.clock, STATE_TICK_MS, () => this.publishStates());
  }

  /**
   * Every second: sensors that went stale or bad (events), the deployer, and
   * actuator documents that changed (the arbiter already had them published: a
   * safety net). After each (re)connect everything retained is published again,
   * since the broker may have lost it.
   */
  private publishStates(): void {
    const now = this.clock.now();
    const online = this.uplink?.state === 'online';
    const reconnected = online && !this.wasOnline;
    this.wasOnline = online;
    this.actuatorStates.check(now, this.arbiter.status(), reconnected);
    if (reconnected) this.publishAlarms();
    this.sensorMonitor.check(now, this.gateway.table.values(), this.sensorView);
    this.deployer?.tick();
  }

  /**
   * The arbiter changed an actuator: its state document goes out STATE_SETTLE_MS
   * later (the changes in between, e.g. a rule-set swap or a hold and its write,
   * make one document per actuator that really changed). Not while stopping: the
   * failsafe writes of shutdown are logged, and the uplink is about to say "offline".
   */
  private stateChanged(): void {
    if (this.stopping || this.stateCheck) return;
    this.stateCheck = this.clock.setTimeout(() => {
      this.stateCheck = undefined;
      this.actuatorStates.check(this.clock.now(), this.arbiter.status());
    }, STATE_SETTLE_MS);
  }

  private publishAlarms(): void {
    this.gateway.outbox.addMessage({ topic: this.topics.alarms, payload: JSON.stringify(this.alarmRegistry.document()), priority: 'event', retain: true });
  }

  /** What the cloud may ask on req/<name>; each checks its own parameters. */
  private requestKinds(): Record<string, RequestKind> {
    const levels = ['debug', 'info', 'warn', 'error'] as const;
    return {
      ping: (p) => {
        onlyParams(p, []);
        return { pong: true, version: VERSION, uptimeS: Math.round((this.clock.now() - this.gateway.startedAt) / 1000) };
      },
      health: (p) => {
        onlyParams(p, []);
        return this.status();
      },
      logs: (p) => {
        onlyParams(p, ['lines', 'level', 'maxBytes']);
        const level = p.level ?? 'info';
        if (!levels.includes(level as (typeof levels)[number])) throw new Error(`level must be one of ${levels.join(', ')}`);
        if (!this.opts.logRing) throw new Error('this daemon keeps no log lines');
        return this.opts.logRing.tail(intParam(p, 'lines', 1, 200, 50), level as (typeof levels)[number], intParam(p, 'maxBytes', 256, 32 * 1024, 16 * 1024));
      },
      trace: (p) => {
        onlyParams(p, ['sensor', 'timeoutMs']);
        if (typeof p.sensor !== 'string' || p.sensor.length === 0 || p.sensor.length > 200) throw new Error('sensor must be a sensor id');
        return this.readFresh(p.sensor, intParam(p, 'timeoutMs', 100, 30_000, 10_000));
      },
      'alarm.ack': (p) => {
        onlyParams(p, ['alarm', 'by']);
        if (typeof p.alarm !== 'string' || p.alarm.length === 0 || p.alarm.length > 256) throw new Error('alarm must be an alarm id');
        const by = typeof p.by === 'string' && p.by.length > 0 && p.by.length <= 100 ? p.by : 'cloud';
        const res = this.ackAlarm(p.alarm, `cloud:${by}`);
        if (!res.ok) throw new Error(res.error ?? 'refused');
        return res.alarm;
      },
      deploy: (p, id) => {
        if (!this.deployer) throw new Error('this daemon runs without a rules directory; nothing to deploy into');
        return this.deployer.deploy(p, id);
      },
      'deploy.confirm': (p) => {
        onlyParams(p, ['version']);
        if (!this.deployer) throw new Error('this daemon runs without a rules directory; nothing to confirm');
        return this.deployer.confirm(p.version);
      },
    };
  }

  alarms(): AlarmView[] {
    return this.alarmRegistry.list();
  }

  rollbackDeploy(version?: number): { version: number; state: 'rolled-back'; to: number | string | null } {
    if (!this.deployer) throw new Error('this daemon runs without a rules directory; nothing was deployed');
    return this.deployer.rollBackNow(version);
  }

  ackAlarm(id: string, by: string): { ok: boolean; error?: string; alarm?: AlarmView } {
    const res = this.alarmRegistry.ack(id, by);
    if (!res.ok) return res;
    this.publishEvent(res.event);
    this.publishAlarms();
    return { ok: true, alarm: res.alarm };
  }

  /**
   * Stop order: rules → failsafe values written through the still-running
   * drivers → drivers → outbox flushed → uplink publishes "offline" → outbox closed.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stateTimer?.stop();
    this.stateTimer = undefined;
    this.clock.clearTimeout(this.stateCheck);
    this.stateCheck = undefined;
    this.watcher?.stop();
    this.deployer?.stop();
    this.engine.stop();
    await this.arbiter.shutdown().catch((err: unknown) => this.log.error('failsafe on shutdown failed', { error: errorMessage(err) }));
    this.commands.close();
    this.flushResults();
    await this.gateway.stop();
    if (this.uplink) {
      try {
        await this.uplink.stop();
      } catch (err) {
        this.log.error('uplink stop failed', { error: errorMessage(err) });
      }
    }
    this.gateway.close();
    this.loopDelay.disable();
  }

  /** The heartbeat document published on .../health. */
  heartbeat(): Record<string, unknown> {
    const now = this.clock.now();
    const rows = this.sensors(now);
    const s = this.snapshot(now, rows);
    return {
      ts: now,
      version: VERSION,
      uptimeS: s.uptimeS,
      level: s.level,
      healthy: s.healthy,
      problems: s.problems,
      system: systemHealth(this.opts.stateDir),
      outbox: s.outbox,
      unknownSensorSamples: this.gateway.unknownSamples,
      drivers: s.drivers.map((d) => ({ id: d.id, kind: d.kind, state: d.state, errors: d.errors, lastError: d.lastError, fix: d.fix })),
      sensors: Object.fromEntries(
        rows.map((r) => [r.id, { lastSeen: r.ts ?? null, quality: r.quality ?? null, stale: r.stale, errors: r.errors }]),
      ),
      rules: s.rules,
      config: s.config,
      actuators: s.actuators.map((a) => ({ id: a.id, value: a.value ?? null, wanted: a.wanted ?? null, owner: a.owner ?? null, priority: a.priority ?? null, failing: a.failing, lastError: a.lastError })),
      alarms: this.alarmRegistry.list().map((a) => ({ id: a.id, source: a.source, severity: a.severity, acknowledged: a.acknowledged !== undefined })),
      commands: s.commands,
      eventLoop: s.eventLoop,
    };
  }

  status(): StatusSnapshot {
    const now = this.clock.now();
    return this.snapshot(now, this.sensors(now));
  }

  /** The status from sensor rows already built (the heartbeat publishes them too: built once). */
  private snapshot(now: number, sensorRows: SensorRow[]): StatusSnapshot {
    const drivers = this.gateway.drivers.map((d) => d.row());
    const outbox = this.buffer();
    const stats = this.uplink?.stats();
    const uplink = stats ? { ...stats } : { state: 'disabled' };
    const watch = this.watcher?.status();
    const engine = this.engine.status();
    const actuators = this.arbiter.status();
    const health = assessHealth({
      drivers,
      sensors: sensorRows,
      failsafeRules: engine.failsafe,
      rules: watch,
      actuators,
      uplink: stats ? { ...stats, lastError: stats.lastError ?? undefined } : undefined,
      outbox,
      recentlyEvicted: this.evictions.recent(now, outbox.evicted),
      withoutFailsafe: this.opts.loaded.config.actuators.filter((a) => a.failsafe === undefined).map((a) => a.id),
      uplinkProblems: this.uplink?.problems() ?? [],
      outboxProblems: this.gateway.outbox.problems(),
    });
    return {
      version: VERSION,
      gateway: this.opts.loaded.config.gateway.id,
      uptimeS: Math.round((now - this.gateway.startedAt) / 1000),
      level: health.level,
      healthy: health.level === 'ok',
      problems: health.issues.map((i) => i.message),
      issues: health.issues,
      drivers,
      uplink,
      outbox,
      config: this.deployer?.configProvenance(),
      rules: {
        loaded: engine.loaded,
        active: engine.active,
        running: watch?.running ?? 'rules-dir',
        acceptedAt: watch?.acceptedAt,
        since: watch?.since,
        dir: this.opts.rulesDir,
        lastReload: watch?.lastReload,
        lastReloadError: watch?.lastReloadError,
        problems: watch?.problems,
        ...this.deployer?.provenance(),
      },
      actuators,
      lastErrors: this.gateway.errors.list(),
      commands: { ...this.commands.counts },
      eventLoop: this.loopDelay.stats(),
    };
  }

  /** What the birth message says besides "online": version, and the running config's and rules' source, version and hash. */
  private birthFacts(): Record<string, string> {
    const out: Record<string, string> = { version: VERSION };
    const add = (prefix: string, p: { source: string; version?: number; hash: string } | undefined) => {
      if (!p) return;
      out[`${prefix}Source`] = p.source;
      out[`${prefix}Hash`] = p.hash;
      if (p.version !== undefined) out[`${prefix}Version`] = String(p.version);
    };
    add('config', this.deployer?.configProvenance());
    add('rules', this.deployer?.provenance());
    return out;
  }

  sensors(now = this.clock.now()): SensorRow[] {
    return this.gateway.table.all().map((s) => this.sensorView.row(s, now));
  }

  /** A sensor table state as the CLI and the sensor events show it. */
  private readonly sensorView: SensorView<SensorState> = {
    id: (s) => s.id,
    condition: (s, now) => sensorCondition(this.gateway.table.stateIsStale(s, now), s.last?.quality),
    row: (s, now) => ({
      id: s.id,
      driver: s.driver,
      value: s.last?.value,
      unit: s.unit,
      quality: s.last?.quality,
      ts: s.last?.ts,
      ageMs: s.last ? now - s.last.ts : undefined,
      stale: this.gateway.table.stateIsStale(s, now),
      errors: s.errors,
      lastError: s.lastError,
    }),
  };

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

  async actuate(actuator: string, value: unknown, release = false): Promise<CommandResultView> {
    if (release) return this.commands.releaseLocal(actuator);
    // On site people type `fieldgate actuate furnace on`; the cloud must send true/false.
    const isBool = this.arbiter.config(actuator)?.type === 'bool';
    const v = isBool && typeof value === 'string' && /^(on|off)$/i.test(value) ? value.toLowerCase() === 'on' : value;
    return this.commands.actuate(actuator, v);
  }

  rules(): RuleRow[] {
    return this.engine.rules();
  }

  /**
   * No valid rules at start-up and no last-known-good set: hold every actuator at
   * its failsafe value (blocking commands) until a valid set is accepted.
   */
  private holdFailsafeForNoRules(none: boolean): void {
    for (const a of this.opts.loaded.config.actuators) {
      if (none) this.arbiter.failsafe(a.id, NO_RULES_OWNER);
      else this.arbiter.release(a.id, NO_RULES_OWNER.key);
    }
  }

  /** Events and alarms go through the outbox (kept until last on eviction). */
  private publishEvent(ev: ControlEvent): void {
    const alarmsChanged = this.alarmRegistry.observe(ev);
    this.log.info('event', { type: ev.type, severity: ev.severity, source: ev.source, message: ev.message });
    this.gateway.outbox.addMessage({ topic: this.topics.events, payload: JSON.stringify(ev), priority: 'event' });
    if (alarmsChanged) this.publishAlarms();
  }

  /**
   * Command results: on the (allowed) MQTT 5 response topic when given, else
   * .../cmd/<actuator>/result. Queued and committed to the outbox together once
   * per turn of the event loop, so a burst of commands costs one transaction.
   */
  private publishResult(actuator: string, result: CommandResult, meta: CommandMeta): void {
    this.results.push({
      topic: meta.responseTopic ?? this.topics.commandResult(actuator),
      payload: JSON.stringify(result),
      priority: 'result',
      properties: meta.correlationData ? { correlationData: meta.correlationData } : undefined,
    });
    this.resultsFlush ??= setImmediate(() => this.flushResults());
  }

  private flushResults(): void {
    if (this.resultsFlush) clearImmediate(this.resultsFlush);
    this.resultsFlush = undefined;
    const batch = this.results.splice(0);
    if (batch.length > 0) this.gateway.outbox.addMessages(batch);
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

/** The config text as this process found it (for its hash in status); empty when it cannot be read again. */
function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
