import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { SerialBusConfig } from './schema';
import { loopBinding } from './serial-binding';

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), as sent low byte first. */
export function crc16(buf: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Length of the normal response to an RTU request frame, from its function code. */
function expectedResponseLength(req: Buffer): number {
  const fc = req[1];
  if (fc === 1 || fc === 2) return 3 + Math.ceil(req.readUInt16BE(4) / 8) + 2;
  if (fc === 3 || fc === 4) return 3 + 2 * req.readUInt16BE(4) + 2;
  return 8; // FC5, 6, 15, 16 echo address and value/quantity
}

/**
 * The serial port object modbus-serial's ModbusRTU drives (open/close/write,
 * 'data'/'error'/'close' events), framing RTU responses from the byte stream:
 * a frame is delivered once the expected number of bytes for the request (or a
 * 5-byte exception) with a valid CRC is buffered. Unlike modbus-serial's own
 * buffered port, the buffer is emptied on every request and by flush(), so a
 * late answer to a timed-out request can never be taken for the next answer.
 *
 * We own the SerialPort, so close() really releases the file descriptor (and its
 * flock): reopening the same path after a timeout cannot hit 'Cannot lock port'.
 */
export class RtuFramedPort extends EventEmitter {
  private readonly serial: SerialPort;
  private buffer = Buffer.alloc(0);
  private unit = -1;
  private fc = -1;
  private expected = 0;
  // ModbusRTU keys transactions by these; on a serial line there is one at a time.
  _transactionIdRead = 1;
  _transactionIdWrite = 1;

  constructor(bus: SerialBusConfig) {
    super();
    // SerialPort hands `binding` on to SerialPortStream (its options type leaves it out):
    // reads and writes on the event loop instead of libuv's thread pool (serial-binding.ts).
    const options = { path: bus.path, baudRate: bus.baudRate, parity: bus.parity, dataBits: bus.dataBits, stopBits: bus.stopBits, autoOpen: false, binding: loopBinding };
    this.serial = new SerialPort(options);
    this.serial.on('data', (chunk: Buffer) => this.onData(chunk));
    this.serial.on('error', (err: Error) => this.emit('error', err));
    this.serial.on('close', (err?: Error) => this.emit('close', err));
  }

  get isOpen(): boolean {
    return this.serial.isOpen;
  }

  open(cb: (err?: Error | null) => void): void {
    this.serial.open(cb);
  }

  close(cb?: (err?: Error | null) => void): void {
    if (!this.serial.isOpen) {
      cb?.(null);
      return;
    }
    this.serial.close((err) => cb?.(err));
  }

  write(frame: Buffer): void {
    this.buffer = Buffer.alloc(0);
    this.unit = frame[0];
    this.fc = frame[1];
    this.expected = expectedResponseLength(frame);
    this.serial.write(frame);
  }

  /** Drop buffered bytes, in this object and in the OS (tcflush). */
  flush(): Promise<void> {
    this.buffer = Buffer.alloc(0);
    if (!this.serial.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.serial.flush(() => resolve()));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.buffer.length > 512) this.buffer = this.buffer.subarray(-256);
    for (let i = 0; i + 5 <= this.buffer.length; i++) {
      if (this.buffer[i] !== this.unit) continue;
      const fc = this.buffer[i + 1];
      const len = fc === this.fc ? this.expected : fc === (this.fc | 0x80) ? 5 : 0;
      if (len === 0 || i + len > this.buffer.length) continue;
      const frame = this.buffer.subarray(i, i + len);
      // A frame-aligned answer with a bad CRC is passed on so ModbusRTU reports "CRC error";
      // elsewhere in the buffer a bad CRC just means we are not at a frame start.
      if (i > 0 && frame.readUInt16LE(len - 2) !== crc16(frame.subarray(0, len - 2))) continue;
      this.buffer = this.buffer.subarray(i + len);
      this.emit('data', Buffer.from(frame));
      return;
    }
  }
}
