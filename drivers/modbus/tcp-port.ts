import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { crc16 } from './rtu-port';

/** MBAP header: transaction id, protocol id (0), length of what follows (unit id + PDU). */
const MBAP = 6;
/** The longest ADU the Modbus TCP spec allows is 260 bytes: MBAP 6 + unit 1 + PDU 253. */
const MAX_LENGTH = 1 + 253;
/** ModbusRTU keys transactions by id; ids wrap here, as modbus-serial's own TCP port does. */
const MAX_TRANSACTIONS = 256;
const EMPTY = Buffer.alloc(0);
/** Bytes the kernel may hand over in one read: a dozen whole answers, more than any burst of ours. */
const READ_BUFFER = 4096;

/**
 * The Modbus TCP port object modbus-serial's ModbusRTU drives (open/close/destroy/write,
 * 'data' and 'close' events, the `_transactionIdRead/Write` it keys transactions by),
 * in place of the library's own TcpPort. ModbusRTU hands it RTU frames (unit, PDU,
 * CRC); each goes out as an MBAP frame (Modbus Messaging on TCP/IP Implementation
 * Guide v1.0b, 3.1.3) and each MBAP frame received comes back as an RTU frame with
 * its CRC, under its transaction id. Several requests may be in flight on one socket.
 *
 * Why not the library's port: per transaction it allocates a debug record, a promise
 * chain per write, a concatenated receive buffer and refreshes a socket idle timer; it
 * keeps that idle timer (the connect timeout) armed for the socket's whole life; and
 * it trusts the MBAP length field, so a peer that sends a length of 0 or 65 535 gets
 * bogus frames or an ever-growing buffer. Here the connect timeout is a timer of its
 * own, the socket reads into one buffer kept for its life (no Buffer per read), a
 * frame arrives from at most two buffers, and a length the spec does not allow closes
 * the link (the bus reconnects): the byte stream can no longer be framed.
 */
export class MbapTcpPort extends EventEmitter {
  private socket?: net.Socket;
  private connected = false;
  /** Where the socket reads into (reused for every read: nothing is allocated per read). */
  private readonly readBuffer = Buffer.alloc(READ_BUFFER); // never a slice of the shared pool
  /** The start of a frame whose rest has not arrived yet (a copy: the read buffer is reused). */
  private rx: Buffer = EMPTY;
  _transactionIdRead = 1;
  _transactionIdWrite = 1;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.connected;
  }

  open(cb: (err?: Error | null) => void): void {
    this.destroy();
    // onread: the socket reads into our buffer and calls back, without a Buffer per read or
    // the stream's 'data' machinery; what must outlive the call is copied out.
    const socket: net.Socket = net.connect({
      host: this.host,
      port: this.port,
      onread: { buffer: this.readBuffer, callback: (n: number, buf: Buffer) => this.onRead(socket, buf, n) },
    });
    this.socket = socket;
    let pending = true;
    const settle = (err: Error | null) => {
      if (!pending) return;
      pending = false;
      clearTimeout(timer);
      cb(err);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      settle(Object.assign(new Error(`TCP Connection Timed Out (${this.host}:${this.port}, ${this.connectTimeoutMs} ms)`), { code: 'ETIMEDOUT' }));
    }, this.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => {
      this.connected = true;
      settle(null);
    });
    // After connect an error is always followed by 'close', which is what ModbusRTU relays.
    socket.on('error', (err: Error) => settle(err));
    socket.on('close', () => {
      this.rx = EMPTY;
      settle(new Error(`TCP connection to ${this.host}:${this.port} closed`));
      if (!this.connected) return;
      this.connected = false;
      this.emit('close');
    });
  }

  close(cb?: (err?: Error | null) => void): void {
    this.destroy();
    cb?.(null);
  }

  /** Drop the socket at once; 'close' follows (ModbusRTU has already stopped listening). */
  destroy(): void {
    this.socket?.destroy();
    this.socket = undefined;
    this.rx = EMPTY;
  }

  /** `frame` is an RTU frame from ModbusRTU: unit id, PDU, 2 CRC bytes (not sent on TCP). */
  write(frame: Buffer): void {
    const socket = this.socket;
    if (!socket || frame.length < 4) return;
    const length = frame.length - 2;
    const adu = Buffer.allocUnsafe(MBAP + length);
    adu.writeUInt16BE(this._transactionIdWrite, 0);
    adu.writeUInt16BE(0, 2);
    adu.writeUInt16BE(length, 4);
    frame.copy(adu, MBAP, 0, length);
    this._transactionIdWrite = (this._transactionIdWrite + 1) % MAX_TRANSACTIONS;
    socket.write(adu);
  }

  private onRead(socket: net.Socket, buf: Buffer, n: number): boolean {
    const chunk = buf.subarray(0, n);
    let rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    while (rx.length >= MBAP) {
      const length = rx.readUInt16BE(4);
      if (length < 2 || length > MAX_LENGTH) {
        this.rx = EMPTY;
        socket.destroy(); // 'close' tells ModbusRTU, and the bus reconnects
        return false;
      }
      if (rx.length < MBAP + length) break;
      if (rx.readUInt16BE(2) !== 0) {
        rx = rx.subarray(MBAP + length); // not Modbus (protocol id 0): not an answer of ours
        continue;
      }
      // ModbusRTU checks the CRC of what it is given, as on a serial line.
      const frame = Buffer.allocUnsafe(length + 2);
      rx.copy(frame, 0, MBAP, MBAP + length);
      frame.writeUInt16LE(crc16(frame.subarray(0, length)), length);
      this._transactionIdRead = rx.readUInt16BE(0);
      rx = rx.subarray(MBAP + length);
      this.emit('data', frame);
      if (this.socket !== socket) return false; // closed by what the answer set off
    }
    // A partial frame is kept as a copy when it still lies in the reused read buffer.
    this.rx = rx.length === 0 ? EMPTY : rx.buffer === buf.buffer ? Buffer.from(rx) : rx;
    return true;
  }
}
