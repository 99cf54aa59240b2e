import * as fs from 'node:fs';
import type { Clock, TimerHandle } from '../../src/core/clock';
import type { ReportingItem, ZigbeeController, ZigbeeDeviceInfo, ZigbeeEvent } from './controller';

/**
 * An in-repo ZigbeeController for tests and demos: a network of devices that
 * replays recorded events (fixture JSON, see test/fixtures/zigbee/) on the
 * injected clock, records every command, and can fail its next start()s
 * ('Cannot lock port', ENOENT) or lose its adapter (`disconnect()`).
 */

export interface ZigbeeRecording {
  description?: string;
  /** Devices already in the network when the coordinator starts. */
  devices?: ZigbeeDeviceInfo[];
  /** Events `at` ms after replay() was called. */
  events: ({ at: number } & ZigbeeEvent)[];
}

export function loadZigbeeRecording(file: string): ZigbeeRecording {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ZigbeeRecording;
}

export interface SentCommand {
  ieee: string;
  endpoint?: number;
  cluster: string;
  command: string;
  payload: Record<string, unknown>;
}

export class FakeZigbeeController implements ZigbeeController {
  running = false;
  starts = 0;
  stops = 0;
  /** Errors the next start() calls reject with, in order. */
  readonly startFailures: Error[] = [];
  readonly commands: SentCommand[] = [];
  /** Reporting configured, and whether the cluster had been bound to the coordinator first. */
  readonly reporting: { ieee: string; cluster: string; bound: boolean; items: ReportingItem[] }[] = [];
  readonly bindings: { ieee: string; endpoint?: number; cluster: string }[] = [];
  /** Errors the next bind() calls reject with, in order. */
  readonly bindFailures: Error[] = [];
  readonly permitJoins: number[] = [];
  /** Attribute values answered by read(), by `${ieee}/${cluster}`. */
  readonly attributes = new Map<string, Record<string, unknown>>();
  readonly network = new Map<string, ZigbeeDeviceInfo>();
  private readonly listeners = new Set<(e: ZigbeeEvent) => void>();
  private readonly timers = new Set<TimerHandle>();

  constructor(
    private readonly clock: Clock,
    devices: ZigbeeDeviceInfo[] = [],
  ) {
    for (const d of devices) this.network.set(d.ieee, d);
  }

  async start(): Promise<void> {
    this.starts++;
    const failure = this.startFailures.shift();
    if (failure) throw failure;
    this.running = true;
  }

  async stop(): Promise<void> {
    this.stops++;
    this.running = false;
  }

  /** The adapter goes away (USB unplugged). */
  disconnect(): void {
    if (!this.running) return;
    this.running = false;
    this.fire({ type: 'adapterDisconnected' });
  }

  async permitJoin(seconds: number): Promise<void> {
    this.check();
    this.permitJoins.push(seconds);
  }

  devices(): ZigbeeDeviceInfo[] {
    return this.running ? [...this.network.values()] : [];
  }

  async read(ieee: string, _endpoint: number | undefined, cluster: string, attributes: string[]): Promise<Record<string, unknown>> {
    this.device(ieee);
    const values = this.attributes.get(`${ieee}/${cluster}`) ?? {};
    return Object.fromEntries(attributes.filter((a) => a in values).map((a) => [a, values[a]]));
  }

  async command(ieee: string, endpoint: number | undefined, cluster: string, command: string, payload: Record<string, unknown>): Promise<void> {
    this.device(ieee);
    this.commands.push({ ieee, endpoint, cluster, command, payload });
  }

  async bind(ieee: string, endpoint: number | undefined, cluster: string): Promise<void> {
    this.device(ieee);
    const failure = this.bindFailures.shift();
    if (failure) throw failure;
    this.bindings.push({ ieee, endpoint, cluster });
  }

  async configureReporting(ieee: string, _endpoint: number | undefined, cluster: string, items: ReportingItem[]): Promise<void> {
    this.device(ieee);
    const bound = this.bindings.some((b) => b.ieee === ieee && b.cluster === cluster);
    this.reporting.push({ ieee, cluster, bound, items });
  }

  onEvent(listener: (e: ZigbeeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Deliver an event now, as the network would (only while running). */
  emit(e: ZigbeeEvent): boolean {
    if (!this.running) return false;
    if (e.type === 'deviceJoined' && !this.network.has(e.ieee)) this.network.set(e.ieee, { ieee: e.ieee, interview: 'pending', endpoints: [1] });
    if (e.type === 'deviceInterview') {
      const d = this.network.get(e.ieee);
      if (d) d.interview = e.status === 'started' ? 'in-progress' : e.status;
    }
    if (e.type === 'deviceLeave') this.network.delete(e.ieee);
    this.fire(e);
    return true;
  }

  replay(recording: ZigbeeRecording): void {
    for (const d of recording.devices ?? []) this.network.set(d.ieee, { ...d });
    for (const { at, ...event } of recording.events) {
      const h = this.clock.setTimeout(() => {
        this.timers.delete(h);
        this.emit(event as ZigbeeEvent);
      }, at);
      this.timers.add(h);
    }
  }

  /** Cancel pending replay timers. */
  close(): void {
    for (const h of this.timers) this.clock.clearTimeout(h);
    this.timers.clear();
  }

  private fire(e: ZigbeeEvent): void {
    for (const l of this.listeners) l(e);
  }

  private check(): void {
    if (!this.running) throw new Error('Zigbee coordinator is not running');
  }

  private device(ieee: string): ZigbeeDeviceInfo {
    this.check();
    const d = this.network.get(ieee);
    if (!d) throw new Error(`no Zigbee device ${ieee} in the network`);
    return d;
  }
}
