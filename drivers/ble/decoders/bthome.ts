import { decodeError, type BleField, type DecodeResult } from './result';

/**
 * BTHome v2, unencrypted (https://bthome.io/format/). Service data under the
 * 16-bit UUID 0xFCD2: one device-information byte (bit 0 encrypted, bit 2
 * trigger-based, bits 5-7 version = 2) followed by objects `id, value...`,
 * little-endian, each value's size fixed by its id. Decoding stops cleanly at an
 * unknown object id (its length is unknown, so nothing after it can be read);
 * the objects before it are kept and `warning` says where it stopped. When an
 * id repeats, the first occurrence wins.
 */
export const BTHOME_UUID = 'fcd2';

interface ObjectSpec {
  /** Field it decodes to; undefined for objects that are skipped (events without a value mapping). */
  field?: BleField;
  size: 1 | 2 | 3 | 4;
  signed?: boolean;
  /** Raw value / divisor = value in the field's unit (divide rather than multiply: exact decimal results). */
  divisor?: number;
}

const OBJECTS: Record<number, ObjectSpec> = {
  0x00: { field: 'packetId', size: 1 },
  0x01: { field: 'battery', size: 1 },
  0x02: { field: 'temperature', size: 2, signed: true, divisor: 100 },
  0x03: { field: 'humidity', size: 2, divisor: 100 },
  0x04: { field: 'pressure', size: 3, divisor: 100 },
  0x05: { field: 'illuminance', size: 3, divisor: 100 },
  0x06: { field: 'mass', size: 2, divisor: 100 },
  0x08: { field: 'dewPoint', size: 2, signed: true, divisor: 100 },
  0x09: { field: 'count', size: 1 },
  0x0a: { field: 'energy', size: 3, divisor: 1000 },
  0x0b: { field: 'power', size: 3, divisor: 100 },
  0x0c: { field: 'voltage', size: 2, divisor: 1000 },
  0x0d: { field: 'pm25', size: 2 },
  0x0e: { field: 'pm10', size: 2 },
  0x0f: { field: 'generic', size: 1 },
  0x10: { field: 'powerOn', size: 1 },
  0x11: { field: 'opening', size: 1 },
  0x12: { field: 'co2', size: 2 },
  0x13: { field: 'tvoc', size: 2 },
  0x14: { field: 'moisture', size: 2, divisor: 100 },
  0x15: { field: 'batteryLow', size: 1 },
  0x1a: { field: 'door', size: 1 },
  0x21: { field: 'motion', size: 1 },
  0x22: { field: 'moving', size: 1 },
  0x23: { field: 'occupancy', size: 1 },
  0x25: { field: 'presence', size: 1 },
  0x29: { field: 'smoke', size: 1 },
  0x2b: { field: 'tamper', size: 1 },
  0x2c: { field: 'vibration', size: 1 },
  0x2d: { field: 'window', size: 1 },
  0x2e: { field: 'humidity', size: 1 },
  0x2f: { field: 'moisture', size: 1 },
  0x3a: { field: 'button', size: 1 },
  0x3c: { size: 2 }, // dimmer event: direction + steps
  0x3d: { field: 'count', size: 2 },
  0x3e: { field: 'count', size: 4 },
  0x3f: { field: 'rotation', size: 2, signed: true, divisor: 10 },
  0x40: { field: 'distance', size: 2 },
  0x43: { field: 'current', size: 2, divisor: 1000 },
  0x44: { field: 'speed', size: 2, divisor: 100 },
  0x45: { field: 'temperature', size: 2, signed: true, divisor: 10 },
  0x46: { field: 'uvIndex', size: 1, divisor: 10 },
  0x4a: { field: 'voltage', size: 2, divisor: 10 },
  0x4d: { field: 'energy', size: 4, divisor: 1000 },
  0x57: { field: 'temperature', size: 1, signed: true },
};

/** Variable-length objects: the byte after the id is the length of what follows. */
const VARIABLE_LENGTH = new Set([0x53 /* text */, 0x54 /* raw */]);

function readInt(buf: Uint8Array, at: number, size: number, signed: boolean): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + buf[at + i];
  if (signed && v >= 2 ** (8 * size - 1)) v -= 2 ** (8 * size);
  return v;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(2, '0');
}

/** Decode the service data of UUID 0xFCD2 (without the UUID). */
export function decodeBthome(data: Uint8Array): DecodeResult {
  if (data.length < 1) return decodeError('truncated', 'BTHome: empty service data', 'bthome');
  const info = data[0];
  const version = info >> 5;
  if (version !== 2) return decodeError('unsupported', `BTHome: device info byte ${hex(info)} says version ${version}; only v2 is supported`, 'bthome');
  if (info & 0x01) return decodeError('encrypted', 'BTHome: payload is encrypted (bindkey decryption is not supported)', 'bthome');

  const values: Partial<Record<BleField, number>> = {};
  let warning: string | undefined;
  let at = 1;
  while (at < data.length) {
    const id = data[at];
    if (VARIABLE_LENGTH.has(id)) {
      if (at + 1 >= data.length) return decodeError('truncated', `BTHome: object ${hex(id)} at byte ${at} has no length byte`, 'bthome');
      const len = data[at + 1];
      if (at + 2 + len > data.length) return decodeError('truncated', `BTHome: object ${hex(id)} at byte ${at} needs ${len} bytes`, 'bthome');
      at += 2 + len;
      continue;
    }
    const spec = OBJECTS[id];
    if (!spec) {
      warning = `BTHome: unknown object id ${hex(id)} at byte ${at}; stopped decoding there`;
      break;
    }
    if (at + 1 + spec.size > data.length) {
      return decodeError('truncated', `BTHome: object ${hex(id)} at byte ${at} needs ${spec.size} value byte(s), ${data.length - at - 1} left`, 'bthome');
    }
    const raw = readInt(data, at + 1, spec.size, spec.signed ?? false);
    if (spec.field && values[spec.field] === undefined) values[spec.field] = spec.divisor ? raw / spec.divisor : raw;
    at += 1 + spec.size;
  }
  if (Object.keys(values).length === 0 && warning) return decodeError('garbage', warning, 'bthome');
  return { ok: true, format: 'bthome', values, sequence: values.packetId, warning };
}
