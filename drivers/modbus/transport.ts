import type { EventEmitter } from 'node:events';
import ModbusRTU from 'modbus-serial';
import { classifyError, ModbusError } from './errors';
import { RtuFramedPort } from './rtu-port';
import { MbapTcpPort } from './tcp-port';
import type { BusConfig, RegisterKind } from './schema';

/**
 * The hardware seam: the narrow port the bus talks to. One instance per bus
 * link (a serial line, a TCP connection). Calls on a serial transport are made
 * one at a time by the bus; a TCP transport accepts concurrent calls (matched by
 * MBAP transaction id). Every failure rejects with a ModbusError.
 */
export interface ModbusTransport {
  readonly description: string;
  open(): Promise<void>;
  /** Release the link completely (file descriptor and lock, or socket). Idempotent. */
  close(): Promise<void>;
  isOpen(): boolean;
  /** Read `count` registers, or bits as 0/1 for coil/discrete (FC1-4). */
  read(unit: number, table: RegisterKind, address: number, count: number, timeoutMs: number): Promise<number[]>;
  /** Write coils (FC5, or FC15 when several or `multiple`) or holding registers (FC6, or FC16). */
  write(unit: number, table: 'coil' | 'holding', address: number, values: number[], opts: { timeoutMs: number; multiple: boolean }): Promise<void>;
  /** Discard stale received bytes (after a timeout, before the next request). */
  flush(): Promise<void>;
  /** Called when the link drops under us (adapter unplugged, socket closed). */
  onDisconnect(listener: (err: ModbusError) => void): void;
}

/** FC3/FC4 data: modbus-serial's array of words as it is, unless the answer is longer than asked. */
function registers(data: (number | boolean)[], count: number): number[] {
  return (data.length === count ? data : data.slice(0, count)) as number[]; // FC3/FC4 data are numbers
}

const openClient = (client: ModbusRTU) => new Promise<void>((resolve, reject) => client.open((err: Error | null) => (err ? reject(err) : resolve())));

type NodeCallback<T> = (err: Error | null, res: T) => void;

/** A ModbusTransport on modbus-serial: RTU over our framed serial port, or Modbus TCP. */
export class ModbusSerialTransport implements ModbusTransport {
  readonly description: string;
  private client?: ModbusRTU;
  private rtuPort?: RtuFramedPort;
  private disconnectListeners: ((err: ModbusError) => void)[] = [];
  private rejectInFlight = new Set<(err: ModbusError) => void>();

  constructor(
    private readonly bus: BusConfig,
    private readonly connectTimeoutMs = 3000,
  ) {
    this.description = bus.type === 'serial' ? `${bus.path} @${bus.baudRate}` : `tcp://${bus.host}:${bus.port}`;
  }

  async open(): Promise<void> {
    await this.close(); // never hold two handles on one port: that is what leaves it locked
    const client = this.bus.type === 'serial' ? await this.openSerial(this.bus) : await this.openTcp(this.bus.host, this.bus.port);
    this.client = client;
    client.on('error', (err: unknown) => this.linkLost(client, classifyError(err)));
    client.on('close', () => this.linkLost(client, new ModbusError(`${this.description} closed`, 'port', undefined, 'EIO')));
  }

  private async openSerial(bus: Extract<BusConfig, { type: 'serial' }>): Promise<ModbusRTU> {
    const port = new RtuFramedPort(bus);
    const client = new ModbusRTU(port);
    try {
      await openClient(client);
    } catch (err) {
      port.close();
      throw classifyError(err);
    }
    this.rtuPort = port;
    return client;
  }

  private async openTcp(host: string, port: number): Promise<ModbusRTU> {
    const client = new ModbusRTU(new MbapTcpPort(host, port, this.connectTimeoutMs));
    try {
      await openClient(client);
    } catch (err) {
      client.destroy(() => undefined);
      throw classifyError(err);
    }
    return client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    const port = this.rtuPort;
    this.rtuPort = undefined;
    this.failInFlight(new ModbusError(`${this.description} closed`, 'port'));
    if (!client) return;
    // ModbusRTU is an EventEmitter; its typings only declare on().
    const emitter = client as unknown as EventEmitter;
    emitter.removeAllListeners('close');
    emitter.removeAllListeners('error');
    // Keep an error listener: a late 'error' from a closing handle must not crash the process.
    emitter.on('error', () => undefined);
    if (port) await new Promise<void>((resolve) => port.close(() => resolve()));
    else await new Promise<void>((resolve) => client.destroy(() => resolve()));
  }

  isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  read(unit: number, table: RegisterKind, address: number, count: number, timeoutMs: number): Promise<number[]> {
    const words = table === 'holding' || table === 'input';
    const values = (res: { data: (number | boolean)[] }) => (words ? registers(res.data, count) : res.data.slice(0, count).map(Number));
    return this.call(timeoutMs, values, (c, cb) => {
      if (table === 'coil') c.writeFC1(unit, address, count, cb);
      else if (table === 'discrete') c.writeFC2(unit, address, count, cb);
      else if (table === 'holding') c.writeFC3(unit, address, count, cb);
      else c.writeFC4(unit, address, count, cb);
    });
  }

  async write(unit: number, table: 'coil' | 'holding', address: number, values: number[], opts: { timeoutMs: number; multiple: boolean }): Promise<void> {
    const multiple = opts.multiple || values.length > 1;
    await this.call<unknown, void>(opts.timeoutMs, () => undefined, (c, cb) => {
      if (table === 'coil') {
        if (multiple) c.writeFC15(unit, address, values.map(Boolean), cb);
        else c.writeFC5(unit, address, Boolean(values[0]), cb);
      } else if (multiple) c.writeFC16(unit, address, values, cb);
      else c.writeFC6(unit, address, values[0], cb);
    });
  }

  async flush(): Promise<void> {
    await this.rtuPort?.flush();
  }

  onDisconnect(listener: (err: ModbusError) => void): void {
    this.disconnectListeners.push(listener);
  }

  /** One request, its answer turned into the result by `result`; rejects at once (not after its timeout) if the link drops meanwhile. */
  private call<T, R>(timeoutMs: number, result: (res: T) => R, send: (client: ModbusRTU, cb: NodeCallback<T>) => void): Promise<R> {
    const client = this.client;
    if (!client?.isOpen) return Promise.reject(new ModbusError(`${this.description} is not open`, 'port'));
    return new Promise<R>((resolve, reject) => {
      const fail = (err: ModbusError) => {
        this.rejectInFlight.delete(fail);
        reject(err);
      };
      this.rejectInFlight.add(fail);
      client.setTimeout(timeoutMs); // read synchronously by send() when it arms the request timer
      send(client, (err, res) => {
        if (!this.rejectInFlight.delete(fail)) return; // already failed by a disconnect
        if (err) reject(classifyError(err));
        else resolve(result(res));
      });
    });
  }

  private failInFlight(err: ModbusError): void {
    const fails = [...this.rejectInFlight];
    this.rejectInFlight.clear();
    for (const f of fails) f(err);
  }

  private linkLost(client: ModbusRTU, err: ModbusError): void {
    if (client !== this.client) return;
    this.failInFlight(err);
    if (err.kind !== 'port' && this.client.isOpen) return;
    for (const l of this.disconnectListeners) l(err);
  }
}
