import { createDecipheriv } from 'node:crypto';
import { decodeError, formatMac, type BleField, type DecodeResult } from './result';

/**
 * BTHome v2 (https://bthome.io/format/), checked against the reference parser
 * Bluetooth-Devices/bthome-ble (src/bthome_ble/parser.py and const.py MEAS_TYPES)
 * and its published test vectors. Service data under the 16-bit UUID 0xFCD2:
 *
 *   device information byte: bit 0 encrypted, bit 1 MAC included, bit 2
 *   trigger-based, bits 5-7 version (= 2)
 *   [6 bytes MAC, reversed, if bit 1]
 *   objects `id, value...` little-endian, each value's size fixed by its id
 *   (text 0x53 and raw 0x54: a length byte, then that many bytes)
 *   [if encrypted: the objects are AES-CCM ciphertext, then a 4-byte counter and a 4-byte MIC]
 *
 * Decoding stops at an unknown object id (its length is unknown, so nothing
 * after it can be read), as bthome-ble does; the objects before it are kept and
 * `warning` says where. An id (or two ids of the same field, e.g. 0x0C and 0x4A
 * voltages) can repeat: `values` has the first, `repeated` all of them in
 * frame order.
 */
export const BTHOME_UUID = 'fcd2';

export interface BthomeObject {
  /** Field it decodes to; undefined for objects that are skipped (events, text, raw). */
  field?: BleField;
  /** Value bytes; 'variable' = a length byte follows the id. */
  size: 1 | 2 | 3 | 4 | 'variable';
  signed?: boolean;
  /** value = raw × mul / div (integers: exact decimal results). */
  mul?: number;
  div?: number;
}

const b = (field: BleField): BthomeObject => ({ field, size: 1 });

/** The v2 object table (bthome.io; bthome-ble MEAS_TYPES). Units are BLE_FIELDS'. */
export const BTHOME_OBJECTS: Readonly<Record<number, BthomeObject>> = {
  0x00: { field: 'packetId', size: 1 },
  0x01: { field: 'battery', size: 1 },
  0x02: { field: 'temperature', size: 2, signed: true, div: 100 },
  0x03: { field: 'humidity', size: 2, div: 100 },
  0x04: { field: 'pressure', size: 3, div: 100 },
  0x05: { field: 'illuminance', size: 3, div: 100 },
  0x06: { field: 'mass', size: 2, div: 100 }, // kg
  0x07: { field: 'massLb', size: 2, div: 100 }, // lb
  0x08: { field: 'dewPoint', size: 2, signed: true, div: 100 },
  0x09: { field: 'count', size: 1 },
  0x0a: { field: 'energy', size: 3, div: 1000 },
  0x0b: { field: 'power', size: 3, div: 100 },
  0x0c: { field: 'voltage', size: 2, div: 1000 },
  0x0d: { field: 'pm25', size: 2 },
  0x0e: { field: 'pm10', size: 2 },
  0x0f: b('generic'),
  0x10: b('powerOn'),
  0x11: b('opening'),
  0x12: { field: 'co2', size: 2 },
  0x13: { field: 'tvoc', size: 2 },
  0x14: { field: 'moisture', size: 2, div: 100 },
  0x15: b('batteryLow'),
  0x16: b('batteryCharging'),
  0x17: b('carbonMonoxide'),
  0x18: b('cold'),
  0x19: b('connectivity'),
  0x1a: b('door'),
  0x1b: b('garageDoor'),
  0x1c: b('gasDetected'),
  0x1d: b('heat'),
  0x1e: b('light'),
  0x1f: b('lock'),
  0x20: b('moistureDetected'),
  0x21: b('motion'),
  0x22: b('moving'),
  0x23: b('occupancy'),
  0x24: b('plug'),
  0x25: b('presence'),
  0x26: b('problem'),
  0x27: b('running'),
  0x28: b('safety'),
  0x29: b('smoke'),
  0x2a: b('sound'),
  0x2b: b('tamper'),
  0x2c: b('vibration'),
  0x2d: b('window'),
  0x2e: { field: 'humidity', size: 1 },
  0x2f: { field: 'moisture', size: 1 },
  0x3a: { field: 'button', size: 1 }, // event: 0 none, 1 press, 2 double, 3 triple, 4 long ...
  0x3c: { size: 2 }, // dimmer event: direction + steps
  0x3d: { field: 'count', size: 2 },
  0x3e: { field: 'count', size: 4 },
  0x3f: { field: 'rotation', size: 2, signed: true, div: 10 },
  0x40: { field: 'distance', size: 2 }, // mm
  0x41: { field: 'distance', size: 2, mul: 100 }, // 0.1 m → mm
  0x42: { field: 'duration', size: 3, div: 1000 },
  0x43: { field: 'current', size: 2, div: 1000 },
  0x44: { field: 'speed', size: 2, div: 100 },
  0x45: { field: 'temperature', size: 2, signed: true, div: 10 },
  0x46: { field: 'uvIndex', size: 1, div: 10 },
  0x47: { field: 'volume', size: 2, div: 10 },
  0x48: { field: 'volume', size: 2, div: 1000 }, // mL → L
  0x49: { field: 'flowRate', size: 2, div: 1000 },
  0x4a: { field: 'voltage', size: 2, div: 10 },
  0x4b: { field: 'gas', size: 3, div: 1000 },
  0x4c: { field: 'gas', size: 4, div: 1000 },
  0x4d: { field: 'energy', size: 4, div: 1000 },
  0x4e: { field: 'volume', size: 4, div: 1000 },
  0x4f: { field: 'water', size: 4, div: 1000 },
  0x50: { field: 'timestamp', size: 4 },
  0x51: { field: 'acceleration', size: 2, div: 1000 },
  0x52: { field: 'gyroscope', size: 2, div: 1000 },
  0x53: { size: 'variable' }, // text
  0x54: { size: 'variable' }, // raw
  0x55: { field: 'volumeStorage', size: 4, div: 1000 },
  0x56: { field: 'conductivity', size: 2 },
  0x57: { field: 'temperature', size: 1, signed: true },
  0x58: { field: 'temperature', size: 1, signed: true, mul: 35, div: 100 },
  0x59: { field: 'count', size: 1, signed: true },
  0x5a: { field: 'count', size: 2, signed: true },
  0x5b: { field: 'count', size: 4, signed: true },
  0x5c: { field: 'power', size: 4, signed: true, div: 100 },
  0x5d: { field: 'current', size: 2, signed: true, div: 1000 },
  0x5e: { field: 'direction', size: 2, div: 100 },
  0x5f: { field: 'precipitation', size: 2, div: 10 },
  0x60: { field: 'channel', size: 1 },
  0x61: { field: 'rotationalSpeed', size: 2 },
  0x62: { field: 'speed', size: 4, signed: true, div: 1_000_000 },
  0x63: { field: 'acceleration', size: 4, signed: true, div: 1_000_000 },
  0x64: { field: 'lightLevel', size: 1 },
};

export interface BthomeOptions {
  /** The advertiser's address "aa:bb:cc:dd:ee:ff" (part of the decryption nonce unless the frame carries its MAC). */
  address?: string;
  /** The device's 16-byte AES key ("bindkey"), for encrypted frames. */
  bindkey?: Uint8Array;
}

const INFO_ENCRYPTED = 0x01;
const INFO_MAC_INCLUDED = 0x02;
const COUNTER_AND_MIC = 8;

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
export function decodeBthome(data: Uint8Array, opts: BthomeOptions = {}): DecodeResult {
  if (data.length < 1) return decodeError('truncated', 'BTHome: empty service data', 'bthome');
  const info = data[0];
  const version = info >> 5;
  if (version !== 2) return decodeError('unsupported', `BTHome: device info byte ${hex(info)} says version ${version}; only v2 is supported`, 'bthome');
  let at = 1;
  let mac: string | undefined;
  if (info & INFO_MAC_INCLUDED) {
    if (data.length < 7) return decodeError('truncated', `BTHome: the MAC-included flag is set but only ${data.length - 1} byte(s) follow the info byte`, 'bthome');
    mac = formatMac(Uint8Array.from(data.subarray(1, 7)).reverse());
    at = 7;
  }
  let objects = data.subarray(at);
  let counter: number | undefined;
  if (info & INFO_ENCRYPTED) {
    const plain = decrypt(data, at, info, mac ?? opts.address, opts.bindkey);
    if (!plain.ok) return plain.error;
    objects = plain.data;
    counter = plain.counter;
  }
  const r = decodeObjects(objects, counter === undefined ? (i) => `byte ${at + i}` : (i) => `decrypted byte ${i}`);
  if (!r.ok) return r;
  const sequence = r.values.packetId ?? counter;
  return { ...r, ...(sequence !== undefined && { sequence }), ...(mac && { mac }), ...(counter !== undefined && { encrypted: true }) };
}

type Decrypted = { ok: true; data: Uint8Array; counter: number } | { ok: false; error: DecodeResult };

/** AES-128-CCM, 4-byte MIC, no associated data; nonce = MAC (6) + UUID d2 fc + info byte + counter (4). */
function decrypt(data: Uint8Array, at: number, info: number, address: string | undefined, key: Uint8Array | undefined): Decrypted {
  const fail = (kind: 'encrypted' | 'truncated' | 'decrypt', error: string): Decrypted => ({ ok: false, error: decodeError(kind, `BTHome: ${error}`, 'bthome') });
  if (!key) return fail('encrypted', 'payload is encrypted: set `bindkey` (32 hex digits, from the device\'s app or firmware) for this device');
  if (key.length !== 16) return fail('encrypted', `bindkey must be 16 bytes (32 hex digits), got ${key.length}`);
  const cipherLength = data.length - at - COUNTER_AND_MIC;
  if (cipherLength < 2) return fail('truncated', `encrypted payload of ${data.length - at} byte(s) is shorter than an object + counter (4) + MIC (4)`);
  const macBytes = address ? Buffer.from(address.replace(/[:-]/g, ''), 'hex') : undefined;
  if (!macBytes || macBytes.length !== 6) return fail('encrypted', 'the device address is needed to decrypt (it is part of the nonce)');
  const counterBytes = data.subarray(data.length - COUNTER_AND_MIC, data.length - 4);
  const mic = data.subarray(data.length - 4);
  const nonce = Buffer.concat([macBytes, Buffer.from([0xd2, 0xfc, info]), counterBytes]);
  try {
    const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 4 });
    d.setAuthTag(mic);
    const plain = Buffer.concat([d.update(data.subarray(at, at + cipherLength)), d.final()]);
    return { ok: true, data: plain, counter: readInt(counterBytes, 0, 4, false) };
  } catch {
    return fail('decrypt', 'decryption failed: wrong bindkey, another device\'s frame, or a corrupted frame');
  }
}

function decodeObjects(data: Uint8Array, where: (i: number) => string): DecodeResult {
  const values: Partial<Record<BleField, number>> = {};
  const all: Partial<Record<BleField, number[]>> = {};
  let warning: string | undefined;
  let at = 0;
  while (at < data.length) {
    const id = data[at];
    const spec = BTHOME_OBJECTS[id];
    if (!spec) {
      warning = `BTHome: unknown object id ${hex(id)} at ${where(at)}; stopped decoding there`;
      break;
    }
    if (spec.size === 'variable') {
      if (at + 1 >= data.length) return decodeError('truncated', `BTHome: object ${hex(id)} at ${where(at)} has no length byte`, 'bthome');
      const len = data[at + 1];
      if (at + 2 + len > data.length) return decodeError('truncated', `BTHome: object ${hex(id)} at ${where(at)} needs ${len} bytes`, 'bthome');
      at += 2 + len;
      continue;
    }
    if (at + 1 + spec.size > data.length) {
      return decodeError('truncated', `BTHome: object ${hex(id)} at ${where(at)} needs ${spec.size} value byte(s), ${data.length - at - 1} left`, 'bthome');
    }
    const raw = readInt(data, at + 1, spec.size, spec.signed ?? false);
    if (spec.field) {
      const value = (raw * (spec.mul ?? 1)) / (spec.div ?? 1);
      if (values[spec.field] === undefined) values[spec.field] = value;
      (all[spec.field] ??= []).push(value);
    }
    at += 1 + spec.size;
  }
  if (Object.keys(values).length === 0 && warning) return decodeError('garbage', warning, 'bthome');
  const repeated = Object.fromEntries(Object.entries(all).filter(([, v]) => v.length > 1)) as Partial<Record<BleField, number[]>>;
  return { ok: true, format: 'bthome', values, ...(Object.keys(repeated).length > 0 && { repeated }), ...(warning && { warning }) };
}
