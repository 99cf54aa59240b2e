import { Backoff } from '../../src/core/backoff';
import type { TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import type { Driver, DriverContext } from '../driver';
import { decodeAdvertisement, type BleField } from './decoders';
import { encodeGattValue } from './gatt-value';
import { GattSession, charRef } from './gatt-session';
import { createNobleRadio } from './noble-radio';
import { normaliseAddress, type Advertisement, type BleRadio } from './radio';
import type { BleDeviceConfig, BleDriverConfig, BleTarget } from './schema';

/**
 * BLE driver: scan (active: noble has no passive mode) → decode → readings for configured MACs, plus GATT
 * sessions for devices with characteristics, and characteristic writes for
 * actuators.
 *
 *   radio ──advertisement──► device (by MAC) ──decode──► ctx.emit(sensor, value)
 *     ▲                                        (skip repeats of the same packet)
 *     └── scan supervisor: restart when nothing arrived for scanStallTimeout,
 *         and after every GATT connect attempt (noble may stop scanning then).
 */

export interface BleDriverOptions {
  /** The radio to use (tests: a FakeBleRadio). The caller owns it: stop() does not close it. Default: noble. */
  radio?: BleRadio;
  /** Random source for the reconnect backoff jitter (tests pass a constant). */
  random?: () => number;
}

type DriverState = 'idle' | 'starting' | 'scanning' | 'stopping' | 'stopped';

interface DeviceState {
  config: BleDeviceConfig;
  bindkey?: Buffer;
  rssi?: number;
  lastSeen?: number;
  lastEmit?: number;
  lastSequence?: number;
  advertisements: number;
  packets: number;
  decodeErrors: number;
  lastError?: string;
  format?: string;
  gatt?: GattSession;
}

export class BleDriver implements Driver {
  private state: DriverState = 'idle';
  private radio?: BleRadio;
  private ownsRadio = false;
  private unsubscribe?: () => void;
  private readonly devices = new Map<string, DeviceState>();
  private watchdog?: TimerHandle;
  private lastAdvertisement?: number;
  private scanStartedAt = 0;
  private scanRestarts = 0;
  private scanError?: string;
  private advertisements = 0;
  private radioLock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: BleDriverConfig,
    private readonly ctx: DriverContext,
    private readonly options: BleDriverOptions = {},
  ) {
    for (const d of config.devices) {
      const bindkey = d.bindkey ? Buffer.from(d.bindkey, 'hex') : undefined;
      this.devices.set(normaliseAddress(d.address), { config: d, bindkey, advertisements: 0, packets: 0, decodeErrors: 0 });
    }
  }

  async start(): Promise<void> {
    this.state = 'starting';
    if (!this.radio) {
      this.ownsRadio = !this.options.radio;
      // createNobleRadio throws DriverUnavailableError (no HCI, no permission): the supervisor reports it.
      this.radio = this.options.radio ?? (await createNobleRadio({ hci: this.config.hci, clock: this.ctx.clock }));
    }
    const radio = this.radio;
    this.unsubscribe = radio.onAdvertisement((adv) => this.onAdvertisement(adv));
    await radio.startScanning();
    this.scanStartedAt = this.ctx.clock.now();
    this.state = 'scanning';
    this.armWatchdog(this.config.scanStallTimeout);
    for (const d of this.devices.values()) {
      if (d.config.gatt.length === 0) continue;
      d.gatt = new GattSession(d.config, {
        radio,
        clock: this.ctx.clock,
        log: this.ctx.log,
        backoff: new Backoff({ initialMs: this.config.reconnect.initial, maxMs: this.config.reconnect.max, minMs: this.config.reconnect.initial / 2, random: this.options.random }),
        connectTimeoutMs: this.config.connectTimeout,
        emit: (sensor, value, ts) => this.ctx.emit(sensor, value, 'good', ts),
        reportError: (err, sensor) => this.ctx.reportError(err, sensor),
        exclusive: (fn) => this.exclusive(fn),
      });
      d.gatt.start();
    }
  }

  async stop(): Promise<void> {
    this.state = 'stopping';
    this.ctx.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const d of this.devices.values()) {
      await d.gatt?.stop();
      d.gatt = undefined;
    }
    const radio = this.radio;
    if (radio) {
      try {
        if (this.ownsRadio) await radio.close();
        else await radio.stopScanning();
      } catch (err) {
        this.ctx.log.warn('BLE radio did not stop cleanly', { error: errorMessage(err) });
      }
    }
    if (this.ownsRadio) this.radio = undefined;
    this.state = 'stopped';
  }

  /** Write a number to a characteristic: over the device's open GATT link, or a short-lived connection. */
  async write(target: unknown, value: number | boolean): Promise<void> {
    const t = target as BleTarget;
    const radio = this.radio;
    if (!radio) throw new Error('BLE radio is not running');
    const data = encodeGattValue(Number(value), t);
    const open = this.devices.get(normaliseAddress(t.device))?.gatt?.connection;
    if (open) return open.write(charRef(t), data, t.withoutResponse);
    await this.exclusive(async () => {
      const conn = await radio.connect(t.device, [charRef(t)], this.config.connectTimeout);
      try {
        await conn.write(charRef(t), data, t.withoutResponse);
      } finally {
        await conn.disconnect();
      }
    });
  }

  health(): Record<string, unknown> {
    const now = this.ctx.clock.now();
    return {
      state: this.state,
      available: this.state === 'scanning',
      scan: {
        restarts: this.scanRestarts,
        advertisements: this.advertisements,
        lastAdvertisement: this.lastAdvertisement,
        lastAdvertisementAgeMs: this.lastAdvertisement === undefined ? undefined : now - this.lastAdvertisement,
        error: this.scanError,
      },
      devices: [...this.devices.entries()].map(([address, d]) => ({
        address,
        name: d.config.name,
        rssi: d.rssi,
        lastSeen: d.lastSeen,
        lastSeenAgeMs: d.lastSeen === undefined ? undefined : now - d.lastSeen,
        format: d.format,
        advertisements: d.advertisements,
        packets: d.packets,
        decodeErrors: d.decodeErrors,
        lastError: d.lastError,
        gatt: d.gatt?.health(),
      })),
    };
  }

  /** Run radio connects one at a time, then restart the scan (noble may have stopped it). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.radioLock.then(fn);
    this.radioLock = run.then(
      () => this.restartScan('after a GATT connection'),
      () => this.restartScan('after a GATT connection'),
    );
    return run;
  }

  private onAdvertisement(adv: Advertisement): void {
    this.advertisements++;
    this.lastAdvertisement = adv.ts;
    const d = this.devices.get(adv.address);
    if (!d) return;
    d.advertisements++;
    d.rssi = adv.rssi;
    d.lastSeen = adv.ts;
    if (d.config.sensors.length === 0) return;

    let values: Partial<Record<BleField, number>> = {};
    let repeated: Partial<Record<BleField, number[]>> | undefined;
    let sequence: number | undefined;
    if (d.config.format !== 'none') {
      const r = decodeAdvertisement(adv, d.config.format, { bindkey: d.bindkey });
      if (!r.ok) {
        // 'absent': the device also sends other advertisements (scan responses, vendor frames) — not an error.
        if (r.kind !== 'absent' || d.config.format !== 'auto') {
          d.decodeErrors++;
          d.lastError = r.error;
          this.ctx.reportError(new Error(`${adv.address}: ${r.error}`));
        }
        return;
      }
      d.format = r.format;
      values = r.values;
      repeated = r.repeated;
      sequence = r.sequence;
    }
    const fresh = sequence !== undefined ? sequence !== d.lastSequence : d.lastEmit === undefined || adv.ts - d.lastEmit >= d.config.minInterval;
    if (!fresh) return;
    d.lastSequence = sequence;
    d.lastEmit = adv.ts;
    d.packets++;
    values.rssi = adv.rssi;
    for (const s of d.config.sensors) {
      const v = s.occurrence === 1 ? values[s.field] : repeated?.[s.field]?.[s.occurrence - 1];
      if (v !== undefined) this.ctx.emit(s.id, v, 'good', adv.ts);
    }
  }

  private armWatchdog(ms: number): void {
    this.watchdog = this.ctx.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.state !== 'scanning') return;
      const since = Math.max(this.lastAdvertisement ?? 0, this.scanStartedAt);
      const age = this.ctx.clock.now() - since;
      if (age >= this.config.scanStallTimeout) {
        void this.restartScan(`no advertisement for ${age} ms`);
        this.armWatchdog(this.config.scanStallTimeout);
      } else this.armWatchdog(this.config.scanStallTimeout - age);
    }, ms);
  }

  private async restartScan(reason: string): Promise<void> {
    const radio = this.radio;
    if (!radio || this.state !== 'scanning') return;
    this.scanRestarts++;
    this.scanStartedAt = this.ctx.clock.now();
    this.ctx.log.info('restarting BLE scan', { reason, restarts: this.scanRestarts });
    try {
      await radio.stopScanning();
      await radio.startScanning();
      this.scanError = undefined;
    } catch (err) {
      this.scanError = errorMessage(err);
      this.ctx.reportError(new Error(`BLE scan restart failed: ${this.scanError}`));
    }
  }
}
