import type { Backoff } from '../../src/core/backoff';
import type { Clock, TimerHandle } from '../../src/core/clock';
import { errorMessage, type Logger } from '../../src/core/logger';
import type { BleRadio, CharacteristicRef, GattConnection } from './radio';
import type { BleDeviceConfig, GattSensorConfig } from './schema';
import { parseGattValue } from './gatt-value';

export type GattState = 'idle' | 'queued' | 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface GattSessionDeps {
  radio: BleRadio;
  clock: Clock;
  log: Logger;
  backoff: Backoff;
  connectTimeoutMs: number;
  emit(sensor: string, value: number, ts: number): void;
  reportError(err: unknown, sensor?: string): void;
  /** Run a connect attempt exclusively (one at a time on the radio); the driver restarts the scan after it. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export function charRef(s: { service: string; characteristic: string }): CharacteristicRef {
  return { service: s.service, characteristic: s.characteristic };
}

/**
 * One device's GATT link: connect, subscribe to notify characteristics, poll
 * the others on timers, and on a failed connect or a dropped link reconnect
 * after an exponential backoff (reset once connected).
 *
 *   idle → queued → connecting → connected ─(link lost)→ backoff → queued ...
 *                          └──(failed)──────────────────→ backoff
 *   any → stopped (stop())
 */
export class GattSession {
  state: GattState = 'idle';
  connects = 0;
  failures = 0;
  disconnects = 0;
  lastError?: string;
  private conn?: GattConnection;
  private pollTimers: TimerHandle[] = [];
  private retryTimer?: TimerHandle;

  constructor(
    readonly device: BleDeviceConfig,
    private readonly deps: GattSessionDeps,
  ) {}

  /** The open connection, if connected (actuator writes reuse it). */
  get connection(): GattConnection | undefined {
    return this.state === 'connected' ? this.conn : undefined;
  }

  start(): void {
    this.queue();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    this.deps.clock.clearTimeout(this.retryTimer);
    this.clearPolls();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) {
      try {
        await conn.disconnect();
      } catch (err) {
        this.deps.log.warn('GATT disconnect on stop failed', { device: this.device.address, error: errorMessage(err) });
      }
    }
  }

  health(): Record<string, unknown> {
    return { state: this.state, connects: this.connects, failures: this.failures, disconnects: this.disconnects, lastError: this.lastError };
  }

  private queue(): void {
    if (this.state === 'stopped') return;
    this.state = 'queued';
    void this.deps.exclusive(() => this.connect());
  }

  private async connect(): Promise<void> {
    if (this.state !== 'queued') return;
    this.state = 'connecting';
    const sensors = this.device.gatt;
    let conn: GattConnection;
    try {
      conn = await this.deps.radio.connect(this.device.address, sensors.map(charRef), this.deps.connectTimeoutMs);
    } catch (err) {
      return this.failed(err);
    }
    // stop() may have run while connect() was awaited.
    if ((this.state as GattState) === 'stopped') {
      await conn.disconnect().catch((err: unknown) => this.deps.log.warn('GATT disconnect failed', { error: errorMessage(err) }));
      return;
    }
    this.conn = conn;
    try {
      for (const s of sensors) {
        if (s.mode === 'notify') await conn.subscribe(charRef(s), (data) => this.value(s, data));
        else {
          this.value(s, await conn.read(charRef(s)));
          this.pollTimers.push(this.deps.clock.setInterval(() => void this.poll(s), s.interval));
        }
      }
    } catch (err) {
      this.clearPolls();
      this.conn = undefined;
      await conn.disconnect().catch(() => undefined); // the setup error below is what gets reported
      return this.failed(err);
    }
    conn.onDisconnect((reason) => this.lost(conn, reason));
    this.state = 'connected';
    this.connects++;
    this.lastError = undefined;
    this.deps.backoff.reset();
    this.deps.log.info('GATT connected', { device: this.device.address, characteristics: sensors.length });
  }

  private async poll(s: GattSensorConfig): Promise<void> {
    const conn = this.connection;
    if (!conn) return;
    try {
      this.value(s, await conn.read(charRef(s)));
    } catch (err) {
      this.deps.reportError(err, s.id);
    }
  }

  private value(s: GattSensorConfig, data: Buffer): void {
    try {
      this.deps.emit(s.id, parseGattValue(data, s), this.deps.clock.now());
    } catch (err) {
      this.deps.reportError(err, s.id);
    }
  }

  private failed(err: unknown): void {
    this.failures++;
    this.lastError = errorMessage(err);
    this.deps.reportError(new Error(`GATT ${this.device.address}: ${this.lastError}`));
    this.retry();
  }

  private lost(conn: GattConnection, reason: string): void {
    if (this.conn !== conn || this.state === 'stopped') return;
    this.conn = undefined;
    this.clearPolls();
    this.disconnects++;
    this.lastError = `link lost: ${reason}`;
    this.deps.log.warn('GATT link lost; reconnecting', { device: this.device.address, reason });
    this.retry();
  }

  private retry(): void {
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    const delay = this.deps.backoff.next();
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.queue();
    }, delay);
  }

  private clearPolls(): void {
    for (const t of this.pollTimers) this.deps.clock.clearInterval(t);
    this.pollTimers = [];
  }
}
