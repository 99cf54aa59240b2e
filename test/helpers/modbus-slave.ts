import * as net from 'node:net';
import { SerialPort } from 'serialport';
import { crc16 } from '../../drivers/modbus/rtu-port';

/**
 * A small Modbus slave for tests, written from the spec so it can count every
 * request: the register model (per unit: coils, discrete inputs, input and
 * holding registers, address ranges that answer ILLEGAL DATA ADDRESS) and two
 * wires on top of it — Modbus TCP (MBAP over net) and RTU (CRC frames on a
 * serial port, e.g. one end of a socat pty pair). Units not added never answer.
 */
export interface UnitBank {
  coils: Uint8Array;
  discrete: Uint8Array;
  input: Uint16Array;
  holding: Uint16Array;
  /** Inclusive ranges per table whose addresses answer exception 2. */
  illegal: { table: 'coil' | 'discrete' | 'input' | 'holding'; from: number; to: number }[];
  /** Acknowledge writes without storing them (a device that silently ignores writes). */
  ignoreWrites: boolean;
}

export interface LoggedRequest {
  unit: number;
  fc: number;
  address: number;
  count: number;
  /** performance.now() when the request arrived and when the answer was sent. */
  at: number;
}

export class SlaveModel {
  readonly units = new Map<number, UnitBank>();
  readonly requests: LoggedRequest[] = [];
  /** Delay before answering, ms (a slow device). */
  delayMs = 0;

  addUnit(unit: number): UnitBank {
    const bank: UnitBank = { coils: new Uint8Array(65536), discrete: new Uint8Array(65536), input: new Uint16Array(65536), holding: new Uint16Array(65536), illegal: [], ignoreWrites: false };
    this.units.set(unit, bank);
    return bank;
  }

  /** Requests received for a unit (optionally one function code). */
  count(unit: number, fc?: number): number {
    return this.requests.filter((r) => r.unit === unit && (fc === undefined || r.fc === fc)).length;
  }

  /** Answer one PDU: the response PDU, or undefined when the unit is absent. */
  handle(unit: number, pdu: Buffer): Buffer | undefined {
    const fc = pdu[0];
    const address = pdu.length >= 3 ? pdu.readUInt16BE(1) : 0;
    const count = fc === 5 || fc === 6 ? 1 : pdu.length >= 5 ? pdu.readUInt16BE(3) : 0;
    this.requests.push({ unit, fc, address, count, at: performance.now() });
    const bank = this.units.get(unit);
    if (!bank) return undefined;
    const exc = (code: number) => Buffer.from([fc | 0x80, code]);
    const table = ({ 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input', 5: 'coil', 6: 'holding', 15: 'coil', 16: 'holding' } as const)[fc];
    if (!table) return exc(1);
    if (bank.illegal.some((r) => r.table === table && address <= r.to && r.from < address + count)) return exc(2);
    if (address + count > 65536) return exc(2);
    if (bank.ignoreWrites && fc >= 5) return Buffer.from(pdu.subarray(0, 5));
    switch (fc) {
      case 1:
      case 2: {
        const bits = fc === 1 ? bank.coils : bank.discrete;
        const bytes = Buffer.alloc(Math.ceil(count / 8));
        for (let i = 0; i < count; i++) if (bits[address + i]) bytes[i >> 3] |= 1 << (i & 7);
        return Buffer.concat([Buffer.from([fc, bytes.length]), bytes]);
      }
      case 3:
      case 4: {
        const regs = fc === 3 ? bank.holding : bank.input;
        const out = Buffer.alloc(2 + count * 2);
        out[0] = fc;
        out[1] = count * 2;
        for (let i = 0; i < count; i++) out.writeUInt16BE(regs[address + i], 2 + i * 2);
        return out;
      }
      case 5:
        bank.coils[address] = pdu.readUInt16BE(3) === 0xff00 ? 1 : 0;
        return Buffer.from(pdu.subarray(0, 5));
      case 6:
        bank.holding[address] = pdu.readUInt16BE(3);
        return Buffer.from(pdu.subarray(0, 5));
      case 15:
        for (let i = 0; i < count; i++) bank.coils[address + i] = (pdu[6 + (i >> 3)] >> (i & 7)) & 1;
        return Buffer.from(pdu.subarray(0, 5));
      case 16:
        for (let i = 0; i < count; i++) bank.holding[address + i] = pdu.readUInt16BE(6 + i * 2);
        return Buffer.from(pdu.subarray(0, 5));
    }
    return exc(1);
  }

  /** Answer after delayMs (if any). */
  answer(unit: number, pdu: Buffer, send: (res: Buffer) => void): void {
    const res = this.handle(unit, pdu);
    if (!res) return;
    if (this.delayMs > 0) setTimeout(() => send(res), this.delayMs);
    else send(res);
  }
}

/** Modbus TCP server on 127.0.0.1, on `port` (default 0: a free one; give the old port to restart a slave). */
export async function startTcpSlave(model: SlaveModel, port = 0): Promise<{ port: number; close(): Promise<void>; dropClients(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 7 && buf.length >= 6 + buf.readUInt16BE(4)) {
        const len = buf.readUInt16BE(4);
        const tid = buf.readUInt16BE(0);
        const unit = buf[6];
        const pdu = Buffer.from(buf.subarray(7, 6 + len));
        buf = buf.subarray(6 + len);
        model.answer(unit, pdu, (res) => {
          const head = Buffer.alloc(7);
          head.writeUInt16BE(tid, 0);
          head.writeUInt16BE(0, 2);
          head.writeUInt16BE(res.length + 1, 4);
          head[6] = unit;
          if (!sock.destroyed) sock.write(Buffer.concat([head, res]));
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropClients: () => sockets.forEach((s) => s.destroy()),
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/** Length of an RTU request frame from its first bytes, or 0 if more bytes are needed. */
function requestFrameLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  const fc = buf[1];
  if (fc === 15 || fc === 16) return buf.length < 7 ? 0 : 7 + buf[6] + 2;
  return 8;
}

/** An RTU slave on a serial port path (e.g. the far end of a socat pty pair). */
export class RtuSlave {
  private port?: SerialPort;
  private buf = Buffer.alloc(0);

  constructor(
    private readonly model: SlaveModel,
    private readonly path: string,
    private readonly baudRate = 115200,
  ) {}

  async open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false, lock: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => undefined);
    port.on('data', (chunk: Buffer) => this.onData(chunk));
    this.port = port;
    this.buf = Buffer.alloc(0);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const len = requestFrameLength(this.buf);
      if (len === 0 || this.buf.length < len) return;
      const frame = this.buf.subarray(0, len);
      this.buf = this.buf.subarray(len);
      if (frame.readUInt16LE(len - 2) !== crc16(frame.subarray(0, len - 2))) {
        this.buf = Buffer.alloc(0); // lost sync: wait for the next request
        return;
      }
      const unit = frame[0];
      this.model.answer(unit, Buffer.from(frame.subarray(1, len - 2)), (pdu) => {
        const out = Buffer.alloc(pdu.length + 3);
        out[0] = unit;
        pdu.copy(out, 1);
        out.writeUInt16LE(crc16(out.subarray(0, out.length - 2)), out.length - 2);
        if (this.port?.isOpen) this.port.write(out);
      });
    }
  }
}
