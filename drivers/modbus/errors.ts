import { errorMessage } from '../../src/core/logger';

/** Exception codes from the Modbus application protocol spec v1.1b3, section 7, by name. */
export const EXCEPTION_NAMES: Record<number, string> = {
  1: 'ILLEGAL FUNCTION',
  2: 'ILLEGAL DATA ADDRESS',
  3: 'ILLEGAL DATA VALUE',
  4: 'SLAVE DEVICE FAILURE',
  5: 'ACKNOWLEDGE',
  6: 'SLAVE DEVICE BUSY',
  8: 'MEMORY PARITY ERROR',
  10: 'GATEWAY PATH UNAVAILABLE',
  11: 'GATEWAY TARGET DEVICE FAILED TO RESPOND',
};

export const ILLEGAL_DATA_ADDRESS = 2;

/**
 * What went wrong with one transaction, as the bus needs to know it:
 * - timeout: no (complete) answer in time; retry, flush stale bytes
 * - frame: an answer arrived but was corrupt (CRC, length, wrong unit); like a timeout
 * - exception: the device answered with an exception code; it is present
 * - port: the link itself is gone (unplugged adapter, closed socket); reopen the bus
 * - busy: the port is held by another process (lock); do not retry soon
 * - other: anything else (e.g. a write not confirmed by read-back); fails that request only
 */
export type ModbusErrorKind = 'timeout' | 'frame' | 'exception' | 'port' | 'busy' | 'other';

export class ModbusError extends Error {
  constructor(
    message: string,
    readonly kind: ModbusErrorKind,
    /** The exception code, for kind 'exception'. */
    readonly code?: number,
    /** errno code (ENOENT, EIO, EACCES ...) for kind 'port'. */
    readonly errno?: string,
  ) {
    super(message);
    this.name = 'ModbusError';
  }
}

export function exceptionError(code: number): ModbusError {
  return new ModbusError(`exception ${code} ${EXCEPTION_NAMES[code] ?? 'UNKNOWN EXCEPTION'}`, 'exception', code);
}

const PORT_ERRNO = /\b(ENOENT|EIO|EACCES|EBUSY|ENXIO|ENODEV|ECONNREFUSED|ECONNRESET|EPIPE|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT)\b/;

/** Map whatever modbus-serial, serialport or net threw onto a ModbusError. */
export function classifyError(err: unknown): ModbusError {
  if (err instanceof ModbusError) return err;
  const msg = errorMessage(err);
  const e = err as { modbusCode?: number; code?: string; errno?: string; name?: string } | undefined;
  if (typeof e?.modbusCode === 'number') return exceptionError(e.modbusCode);
  if (/Cannot lock port/i.test(msg)) return new ModbusError(msg, 'busy', undefined, 'EBUSY');
  if (e?.name === 'TransactionTimedOutError' || /^Timed out/i.test(msg)) return new ModbusError('timeout: no answer', 'timeout');
  if (/CRC error|Data length error|Unexpected data error/i.test(msg)) return new ModbusError(msg, 'frame');
  const errno = typeof e?.code === 'string' ? e.code : PORT_ERRNO.exec(msg)?.[1];
  const portLevel = errno !== undefined || e?.name === 'PortNotOpenError' || e?.name === 'SerialPortError' || /not open|closed|disconnected|Connection Timed Out/i.test(msg);
  return new ModbusError(msg, portLevel ? 'port' : 'other', undefined, errno);
}
