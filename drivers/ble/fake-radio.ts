import * as fs from 'node:fs';
import type { Clock, TimerHandle } from '../../src/core/clock';
import type { Advertisement, BleRadio, CharacteristicRef, GattConnection } from './radio';
import { normaliseAddress, normaliseUuid } from './radio';

/**
 * An in-repo BleRadio for tests and demos: replays recorded advertisements
 * (fixture JSON, see test/fixtures/ble/) on the injected clock, and simulates
 * GATT peripherals whose characteristics can be read, written and notified.
 * Like noble, it delivers advertisements only while scanning; `stall()` makes
 * the scan go silent without saying so, and connect() stops the scan when
 * `connectStopsScan` is set (both are real noble behaviours the driver supervises).
 */

/** One recorded advertisement: payloads as hex strings, `at` ms after the replay starts. */
export interface RecordedAdvertisement {
  at: number;
  address: string;
  rssi: number;
  localName?: string;
  serviceData?: { uuid: string; data: string }[];
  manufacturerData?: string;
}

export interface AdvertisementRecording {
  description?: string;
  /** Replay again from the start after the last one, shifted by this period (ms); 0 = once. */
  repeatEvery?: number;
  advertisements: RecordedAdvertisement[];
}

export function loadRecording(file: string): AdvertisementRecording {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as AdvertisementRecording;
}

export function toAdvertisement(r: RecordedAdvertisement, ts: number): Advertisement {
  return {
    address: normaliseAddress(r.address),
    rssi: r.rssi,
    localName: r.localName,
    serviceData: (r.serviceData ?? []).map((s) => ({ uuid: normaliseUuid(s.uuid), data: Buffer.from(s.data, 'hex') })),
    manufacturerData: r.manufacturerData ? Buffer.from(r.manufacturerData, 'hex') : undefined,
    ts,
  };
}

const key = (ref: CharacteristicRef) => `${normaliseUuid(ref.service)}/${normaliseUuid(ref.characteristic)}`;

/** A simulated GATT peripheral. */
export class FakePeripheral {
  readonly values = new Map<string, Buffer>();
  readonly writes: { ref: CharacteristicRef; data: Buffer }[] = [];
  /** Number of upcoming connect() attempts that fail. */
  failConnects = 0;
  connects = 0;
  private link?: FakeGattConnection;

  setValue(ref: CharacteristicRef, data: Buffer): void {
    this.values.set(key(ref), data);
  }

  /** Change a value and notify subscribers, as the device would. */
  notify(ref: CharacteristicRef, data: Buffer): void {
    this.setValue(ref, data);
    this.link?.deliver(key(ref), data);
  }

  /** Drop the link as if the device went out of range. */
  dropLink(reason = 'link lost'): void {
    this.link?.drop(reason);
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** @internal used by FakeBleRadio */
  attach(link: FakeGattConnection | undefined): void {
    this.link = link;
  }
}

class FakeGattConnection implements GattConnection {
  private readonly subscribers = new Map<string, (data: Buffer) => void>();
  private readonly disconnectListeners: ((reason: string) => void)[] = [];
  private open = true;

  constructor(private readonly peripheral: FakePeripheral) {}

  async read(ref: CharacteristicRef): Promise<Buffer> {
    this.check();
    const v = this.peripheral.values.get(key(ref));
    if (!v) throw new Error(`characteristic ${key(ref)} not found`);
    return v;
  }

  async write(ref: CharacteristicRef, data: Buffer): Promise<void> {
    this.check();
    this.peripheral.writes.push({ ref, data });
    this.peripheral.values.set(key(ref), data);
  }

  async subscribe(ref: CharacteristicRef, onData: (data: Buffer) => void): Promise<void> {
    this.check();
    this.subscribers.set(key(ref), onData);
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.disconnectListeners.push(listener);
  }

  async disconnect(): Promise<void> {
    this.drop('disconnected by host');
  }

  deliver(k: string, data: Buffer): void {
    if (this.open) this.subscribers.get(k)?.(data);
  }

  drop(reason: string): void {
    if (!this.open) return;
    this.open = false;
    this.peripheral.attach(undefined);
    for (const l of this.disconnectListeners) l(reason);
  }

  private check(): void {
    if (!this.open) throw new Error('not connected');
  }
}

export class FakeBleRadio implements BleRadio {
  readonly peripherals = new Map<string, FakePeripheral>();
  scanning = false;
  scanStarts = 0;
  closed = false;
  /** When set, connect() stops the scan like some HCI adapters do. */
  connectStopsScan = true;
  private stalled = false;
  private readonly listeners = new Set<(adv: Advertisement) => void>();
  private readonly timers = new Set<TimerHandle>();

  constructor(private readonly clock: Clock) {}

  peripheral(address: string): FakePeripheral {
    const a = normaliseAddress(address);
    let p = this.peripherals.get(a);
    if (!p) this.peripherals.set(a, (p = new FakePeripheral()));
    return p;
  }

  async startScanning(): Promise<void> {
    this.scanning = true;
    this.stalled = false;
    this.scanStarts++;
  }

  async stopScanning(): Promise<void> {
    this.scanning = false;
  }

  /** The scan keeps "running" but nothing arrives any more, until the next startScanning(). */
  stall(): void {
    this.stalled = true;
  }

  onAdvertisement(listener: (adv: Advertisement) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Deliver one advertisement now (ignored unless scanning). Returns whether it was delivered. */
  advertise(r: Omit<RecordedAdvertisement, 'at'>): boolean {
    if (!this.scanning || this.stalled || this.closed) return false;
    const adv = toAdvertisement({ ...r, at: 0 }, this.clock.now());
    for (const l of this.listeners) l(adv);
    return true;
  }

  /** Schedule a recording on the clock, relative to now. */
  replay(recording: AdvertisementRecording): void {
    const schedule = (offset: number) => {
      for (const r of recording.advertisements) {
        const h = this.clock.setTimeout(() => {
          this.timers.delete(h);
          this.advertise(r);
        }, offset + r.at);
        this.timers.add(h);
      }
      if (recording.repeatEvery && recording.repeatEvery > 0) {
        const h = this.clock.setTimeout(() => {
          this.timers.delete(h);
          schedule(0);
        }, offset + recording.repeatEvery);
        this.timers.add(h);
      }
    };
    schedule(0);
  }

  async connect(address: string, characteristics: CharacteristicRef[]): Promise<GattConnection> {
    if (this.connectStopsScan) this.scanning = false;
    const p = this.peripherals.get(normaliseAddress(address));
    if (!p) throw new Error(`device ${address} not found`);
    p.connects++;
    if (p.failConnects > 0) {
      p.failConnects--;
      throw new Error(`connection to ${address} failed`);
    }
    for (const c of characteristics) if (!p.values.has(key(c))) throw new Error(`characteristic ${key(c)} not found on ${address}`);
    const link = new FakeGattConnection(p);
    p.attach(link);
    return link;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.scanning = false;
    for (const h of this.timers) this.clock.clearTimeout(h);
    this.timers.clear();
    for (const p of this.peripherals.values()) p.dropLink('radio closed');
  }
}
