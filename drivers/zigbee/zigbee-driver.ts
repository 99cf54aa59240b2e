import * as path from 'node:path';
import { Backoff } from '../../src/core/backoff';
import type { TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import { DriverUnavailableError, type DriverContext, type OperableDriver } from '../driver';
import { mapClusterCommand, mapClusterReport, type ClusterValue } from './clusters';
import type { ZigbeeController, ZigbeeDeviceInfo, ZigbeeEvent } from './controller';
import { HerdsmanController } from './herdsman-controller';
import { loadOrCreateNetworkKey } from './network-key';
import type { ZigbeeDeviceConfig, ZigbeeDriverConfig, ZigbeeTarget } from './schema';

/**
 * Zigbee driver: owns the coordinator through a ZigbeeController, turns
 * attribute reports of configured devices into readings, sends on/off and
 * level commands for actuators, and keeps the coordinator alive by itself:
 *
 *   idle → starting ─ok→ running ─adapterDisconnected→ backoff → starting ...
 *             └─failed (ENOENT, Cannot lock port ...)→ backoff
 *   any → stopping → stopped
 *
 * A failed adapter never rejects start() (the rest of the daemon runs on;
 * health shows the state and the error); only a missing zigbee-herdsman
 * module does (DriverUnavailableError).
 */

export interface ZigbeeDriverOptions {
  /** The controller to use (tests: a FakeZigbeeController). Default: zigbee-herdsman. */
  controller?: ZigbeeController;
  /** Random source for the retry backoff jitter (tests pass a constant). */
  random?: () => number;
}

export type ZigbeeState = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

interface DeviceState {
  ieee: string;
  config?: ZigbeeDeviceConfig;
  lastSeen?: number;
  left: boolean;
  interview?: string;
  linkquality?: number;
}

export interface ZigbeeDeviceView {
  ieee: string;
  name?: string;
  model?: string;
  vendor?: string;
  type?: string;
  interview?: string;
  lastSeen?: number;
  available: boolean;
  left: boolean;
  linkquality?: number;
}

export class ZigbeeDriver implements OperableDriver {
  /** What `fieldgate zigbee ...` may call through the daemon, which owns the coordinator. */
  readonly operations = {
    devices: () => this.devices(),
    permitJoin: (args: readonly unknown[]) => {
      const seconds = Number(args[0]);
      if (!Number.isFinite(seconds) || seconds < 0) throw new Error('permitJoin takes a number of seconds');
      return this.permitJoin(seconds);
    },
    readAttribute: (args: readonly unknown[]) => {
      if (args.length !== 3 || !args.every((a) => typeof a === 'string')) throw new Error('readAttribute takes DEVICE CLUSTER ATTRIBUTE');
      return this.readAttribute(args[0] as string, args[1] as string, args[2] as string);
    },
  };
  private state: ZigbeeState = 'idle';
  private controller?: ZigbeeController;
  private unsubscribe?: () => void;
  private retryTimer?: TimerHandle;
  private nextRetryAt?: number;
  private lastError?: string;
  private failures = 0;
  private permitJoinUntil?: number;
  private readonly backoff: Backoff;
  private readonly devicesByIeee = new Map<string, DeviceState>();
  private readonly ieeeByName = new Map<string, string>();

  constructor(
    private readonly config: ZigbeeDriverConfig,
    private readonly ctx: DriverContext,
    private readonly options: ZigbeeDriverOptions = {},
  ) {
    this.backoff = new Backoff({ initialMs: config.retry.initial, maxMs: config.retry.max, minMs: config.retry.initial / 2, random: options.random });
    for (const d of config.devices) {
      const ieee = d.ieee.toLowerCase();
      this.devicesByIeee.set(ieee, { ieee, config: d, left: false });
      this.ieeeByName.set(d.name, ieee);
    }
  }

  async start(): Promise<void> {
    if (!this.controller) this.controller = this.options.controller ?? this.herdsman();
    this.unsubscribe = this.controller.onEvent((e) => this.onEvent(e));
    await this.attempt();
  }

  async stop(): Promise<void> {
    this.state = 'stopping';
    this.ctx.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    try {
      await this.controller?.stop();
    } catch (err) {
      this.ctx.log.warn('Zigbee coordinator did not stop cleanly', { error: errorMessage(err) });
    }
    this.state = 'stopped';
  }

  async write(target: unknown, value: number | boolean): Promise<void> {
    const t = target as ZigbeeTarget;
    if (t.command === 'permitJoin') {
      await this.permitJoin(Number(value));
      return;
    }
    const ieee = this.resolve(t.device);
    const c = this.running();
    if (t.command === 'onOff') return c.command(ieee, t.endpoint, 'genOnOff', Number(value) ? 'on' : 'off', {});
    const level = Math.max(0, Math.min(254, Math.round(Number(value))));
    return c.command(ieee, t.endpoint, 'genLevelCtrl', 'moveToLevelWithOnOff', { level, transtime: Math.round(t.transition * 10) });
  }

  /** Open the network for joining; bounded by permitJoinMax. Returns the seconds granted. */
  async permitJoin(seconds: number): Promise<number> {
    const s = Math.max(0, Math.min(this.config.permitJoinMax, Math.round(seconds)));
    await this.running().permitJoin(s);
    this.permitJoinUntil = s > 0 ? this.ctx.clock.now() + s * 1000 : undefined;
    this.ctx.log.info(s > 0 ? 'permit join opened' : 'permit join closed', { seconds: s });
    return s;
  }

  /** Every device in the network and every configured one, with availability. */
  devices(): ZigbeeDeviceView[] {
    const now = this.ctx.clock.now();
    const network = new Map<string, ZigbeeDeviceInfo>((this.controller?.devices() ?? []).map((d) => [d.ieee.toLowerCase(), d]));
    const ieees = new Set([...this.devicesByIeee.keys(), ...network.keys()]);
    return [...ieees].map((ieee) => {
      const s = this.devicesByIeee.get(ieee);
      const n = network.get(ieee);
      const lastSeen = Math.max(s?.lastSeen ?? 0, n?.lastSeen ?? 0) || undefined;
      const left = s?.left ?? false;
      return {
        ieee,
        name: s?.config?.name,
        model: n?.model,
        vendor: n?.vendor,
        type: n?.type,
        interview: n?.interview ?? s?.interview,
        lastSeen,
        available: !left && lastSeen !== undefined && now - lastSeen <= this.config.availabilityTimeout,
        left,
        linkquality: s?.linkquality,
      };
    });
  }

  /** Read one attribute now (CLI `fieldgate zigbee read DEVICE CLUSTER ATTRIBUTE`). */
  async readAttribute(device: string, cluster: string, attribute: string): Promise<unknown> {
    const values = await this.running().read(this.resolve(device), undefined, cluster, [attribute]);
    return values[attribute];
  }

  health(): Record<string, unknown> {
    const now = this.ctx.clock.now();
    return {
      state: this.state,
      /** False while the coordinator is not running (the supervisor sees start() succeed even then). */
      available: this.state === 'running',
      adapter: this.config.adapter.path,
      lastError: this.lastError,
      failures: this.failures,
      nextRetryInMs: this.state === 'backoff' && this.nextRetryAt !== undefined ? this.nextRetryAt - now : undefined,
      permitJoinRemainingMs: this.permitJoinUntil !== undefined && this.permitJoinUntil > now ? this.permitJoinUntil - now : undefined,
      devices: this.devices(),
    };
  }

  private herdsman(): ZigbeeController {
    const keyFile = this.config.networkKeyFile ?? path.join(this.ctx.stateDir, 'network-key');
    const key = loadOrCreateNetworkKey(keyFile);
    if (key.created) this.ctx.log.info('created a new Zigbee network key', { file: keyFile });
    if (key.warning) this.ctx.log.warn(key.warning);
    return new HerdsmanController({
      adapter: this.config.adapter,
      channel: this.config.channel,
      panId: this.config.panId,
      networkKey: key.key,
      stateDir: this.ctx.stateDir,
      log: this.ctx.log.child({ component: 'zigbee-herdsman' }),
    });
  }

  private async attempt(): Promise<void> {
    const c = this.controller;
    if (!c || this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'starting';
    try {
      await c.start();
    } catch (err) {
      if (err instanceof DriverUnavailableError) throw err;
      return this.failed(err);
    }
    if ((this.state as ZigbeeState) !== 'starting') {
      await c.stop(); // stop() ran meanwhile
      return;
    }
    this.state = 'running';
    this.lastError = undefined;
    this.backoff.reset();
    this.ctx.log.info('Zigbee coordinator running', { adapter: this.config.adapter.path, devices: c.devices().length });
  }

  private async failed(err: unknown): Promise<void> {
    this.failures++;
    this.lastError = errorMessage(err);
    this.ctx.reportError(err);
    try {
      await this.controller?.stop();
    } catch (stopErr) {
      this.ctx.log.debug('stopping the failed coordinator', { error: errorMessage(stopErr) });
    }
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'backoff';
    const delay = this.backoff.next();
    this.nextRetryAt = this.ctx.clock.now() + delay;
    this.ctx.log.info('retrying the Zigbee adapter', { inMs: delay, attempt: this.backoff.attempts });
    this.retryTimer = this.ctx.clock.setTimeout(() => {
      this.retryTimer = undefined;
      // A retry that finds the stack unloadable keeps retrying (slowly, by backoff) rather than stalling.
      this.attempt().catch((e: unknown) => void this.failed(e));
    }, delay);
  }

  private onEvent(e: ZigbeeEvent): void {
    if (e.type === 'adapterDisconnected') {
      if (this.state === 'running') void this.failed(new Error(`Zigbee adapter at ${this.config.adapter.path} disconnected`));
      return;
    }
    const ieee = e.ieee.toLowerCase();
    let d = this.devicesByIeee.get(ieee);
    if (!d) this.devicesByIeee.set(ieee, (d = { ieee, left: false }));
    const name = d.config?.name ?? ieee;
    switch (e.type) {
      case 'attributeReport':
      case 'clusterCommand':
        d.lastSeen = this.ctx.clock.now();
        d.left = false;
        d.linkquality = e.linkquality ?? d.linkquality;
        if (d.config) this.report(d.config, e.endpoint, e.type === 'attributeReport' ? mapClusterReport(e.cluster, e.attributes) : mapClusterCommand(e.cluster, e.command, e.payload));
        break;
      case 'deviceJoined':
        d.lastSeen = this.ctx.clock.now();
        d.left = false;
        this.ctx.log.info('Zigbee device joined', { ieee, name });
        break;
      case 'deviceInterview':
        d.interview = e.status;
        this.ctx.log.info(`Zigbee interview ${e.status}`, { ieee, name });
        if (e.status === 'successful' && d.config) void this.configureReporting(d.config);
        break;
      case 'deviceLeave':
        d.left = true;
        this.ctx.log.warn('Zigbee device left the network', { ieee, name });
        break;
    }
  }

  private report(device: ZigbeeDeviceConfig, endpoint: number, values: ClusterValue[]): void {
    const ts = this.ctx.clock.now();
    for (const { field, value } of values) {
      for (const s of device.sensors) {
        if (s.field !== field || (s.endpoint !== undefined && s.endpoint !== endpoint)) continue;
        this.ctx.emit(s.id, s.scale === 1 ? value : value * s.scale, 'good', ts);
      }
    }
  }

  /**
   * Bind each reporting cluster to the coordinator, then configure its reporting:
   * a standard device sends reports to its bindings, so unbound reporting reaches no
   * one (zigbee-herdsman-converters' reporting.bind precedes every configureReporting).
   */
  private async configureReporting(device: ZigbeeDeviceConfig): Promise<void> {
    const ieee = device.ieee.toLowerCase();
    const bound = new Map<string, boolean>();
    for (const r of device.reporting) {
      const key = `${r.endpoint ?? ''}/${r.cluster}`;
      if (!bound.has(key)) {
        try {
          await this.running().bind(ieee, r.endpoint, r.cluster);
          bound.set(key, true);
        } catch (err) {
          bound.set(key, false);
          this.ctx.reportError(new Error(`bind ${device.name} ${r.cluster} to the coordinator: ${errorMessage(err)} (reporting on it not configured)`));
        }
      }
      if (!bound.get(key)) continue;
      try {
        await this.running().configureReporting(ieee, r.endpoint, r.cluster, [
          { attribute: r.attribute, minimumReportInterval: Math.round(r.min / 1000), maximumReportInterval: Math.round(r.max / 1000), reportableChange: r.change },
        ]);
      } catch (err) {
        this.ctx.reportError(new Error(`configure reporting ${device.name} ${r.cluster}.${r.attribute}: ${errorMessage(err)}`));
      }
    }
  }

  private resolve(device: string): string {
    const ieee = this.ieeeByName.get(device) ?? device.toLowerCase();
    if (!/^0x[0-9a-f]{16}$/.test(ieee)) throw new Error(`unknown Zigbee device "${device}" (not a configured name or an IEEE address)`);
    return ieee;
  }

  private running(): ZigbeeController {
    if (this.state !== 'running' || !this.controller) {
      throw new Error(`Zigbee coordinator is not running (${this.state}${this.lastError ? `: ${this.lastError}` : ''})`);
    }
    return this.controller;
  }
}
