import { createDecipheriv } from 'node:crypto';
import { decodeError, formatMac, type BleField, type DecodeResult } from './result';

/**
 * The two custom-firmware formats for Xiaomi LYWSD03MMC thermometers
 * (https://github.com/pvvx/ATC_MiThermometer), both sent as service data under
 * the 16-bit UUID 0x181A (Environmental Sensing):
 *
 * ATC1441, 13 bytes, big-endian:
 *   0-5 MAC (as written) | 6-7 temperature int16 × 0.1 °C | 8 humidity % |
 *   9 battery % | 10-11 battery mV | 12 frame counter
 *
 * pvvx custom, 15 bytes, little-endian:
 *   0-5 MAC (reversed) | 6-7 temperature int16 × 0.01 °C | 8-9 humidity uint16 × 0.01 % |
 *   10-11 battery mV | 12 battery % | 13 measurement counter | 14 flags
 *
 * Encrypted with the device's bindkey (src/custom_beacon.c, *_encrypt_data_beacon):
 *   pvvx, 11 bytes: 0 counter | 1-6 ciphertext of temperature int16 × 0.01 °C, humidity
 *     uint16 × 0.01 %, battery %, flags | 7-10 MIC
 *   ATC1441, 8 bytes: 0 counter | 1-3 ciphertext of temperature uint8 (× 0.5 − 40 °C),
 *     humidity uint8 × 0.5 %, battery % (bit 7: trigger) | 4-7 MIC
 *   AES-128-CCM, 4-byte MIC, associated data 0x11, nonce = MAC (least significant byte
 *   first) + the AD header: length, 0x16, 0x1A 0x18, counter.
 */
export const ENVIRONMENTAL_SENSING_UUID = '181a';
export const ATC_LENGTH = 13;
export const PVVX_LENGTH = 15;
export const PVVX_ENCRYPTED_LENGTH = 11;
export const ATC_ENCRYPTED_LENGTH = 8;

/** The advertiser's address and key, for the encrypted formats. */
export interface CustomKeys {
  address?: string;
  bindkey?: Uint8Array;
}

function decryptCustom(data: Uint8Array, format: 'atc' | 'pvvx', keys: CustomKeys): { ok: true; plain: Buffer } | { ok: false; error: DecodeResult } {
  const name = format === 'pvvx' ? 'pvvx' : 'ATC1441';
  const fail = (kind: 'encrypted' | 'decrypt', error: string) => ({ ok: false as const, error: decodeError(kind, `${name}: ${error}`, format) });
  if (!keys.bindkey) {
    return fail('encrypted', `${data.length} bytes is the length of an encrypted ${name} beacon: set \`bindkey\` (32 hex digits, from the firmware settings) for this device (or the frame is truncated)`);
  }
  if (keys.bindkey.length !== 16) return fail('encrypted', `bindkey must be 16 bytes (32 hex digits), got ${keys.bindkey.length}`);
  const mac = keys.address ? Buffer.from(keys.address.replace(/[:-]/g, ''), 'hex') : undefined;
  if (!mac || mac.length !== 6) return fail('encrypted', 'the device address is needed to decrypt (it is part of the nonce)');
  const nonce = Buffer.concat([Buffer.from(mac).reverse(), Buffer.from([data.length + 3, 0x16, 0x1a, 0x18, data[0]])]);
  const cipherText = data.subarray(1, data.length - 4);
  try {
    const d = createDecipheriv('aes-128-ccm', keys.bindkey, nonce, { authTagLength: 4 });
    d.setAuthTag(data.subarray(data.length - 4));
    d.setAAD(Buffer.from([0x11]), { plaintextLength: cipherText.length });
    return { ok: true, plain: Buffer.concat([d.update(cipherText), d.final()]) };
  } catch {
    return fail('decrypt', "decryption failed: wrong bindkey, another device's frame, or a corrupted frame");
  }
}

function decodeEncrypted(data: Uint8Array, format: 'atc' | 'pvvx', keys: CustomKeys): DecodeResult {
  const r = decryptCustom(data, format, keys);
  if (!r.ok) return r.error;
  const p = r.plain;
  const values: Partial<Record<BleField, number>> =
    format === 'pvvx'
      ? { temperature: p.readInt16LE(0) / 100, humidity: p.readUInt16LE(2) / 100, battery: p[4], count: data[0] }
      : { temperature: p[0] / 2 - 40, humidity: p[1] / 2, battery: p[2] & 0x7f, count: data[0] };
  return { ok: true, format, values, sequence: data[0], encrypted: true };
}

export function decodeAtc(data: Uint8Array, keys: CustomKeys = {}): DecodeResult {
  if (data.length === ATC_ENCRYPTED_LENGTH) return decodeEncrypted(data, 'atc', keys);
  if (data.length < ATC_LENGTH) return decodeError('truncated', `ATC1441: needs ${ATC_LENGTH} bytes, got ${data.length}`, 'atc');
  if (data.length !== ATC_LENGTH) return decodeError('garbage', `ATC1441: expected ${ATC_LENGTH} bytes, got ${data.length}`, 'atc');
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const humidity = data[8];
  const battery = data[9];
  if (humidity > 100 || battery > 100) return decodeError('garbage', `ATC1441: humidity ${humidity} % or battery ${battery} % out of range`, 'atc');
  const values: Partial<Record<BleField, number>> = {
    temperature: view.getInt16(6) / 10,
    humidity,
    battery,
    voltage: view.getUint16(10) / 1000,
    count: data[12],
  };
  return { ok: true, format: 'atc', values, sequence: data[12], mac: formatMac(data.subarray(0, 6)) };
}

export function decodePvvx(data: Uint8Array, keys: CustomKeys = {}): DecodeResult {
  if (data.length === PVVX_ENCRYPTED_LENGTH) return decodeEncrypted(data, 'pvvx', keys);
  if (data.length < PVVX_LENGTH) return decodeError('truncated', `pvvx: needs ${PVVX_LENGTH} bytes, got ${data.length}`, 'pvvx');
  if (data.length !== PVVX_LENGTH) return decodeError('garbage', `pvvx: expected ${PVVX_LENGTH} bytes, got ${data.length}`, 'pvvx');
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const battery = data[12];
  const humidity = view.getUint16(8, true);
  if (battery > 100 || humidity > 10000) return decodeError('garbage', `pvvx: humidity ${humidity / 100} % or battery ${battery} % out of range`, 'pvvx');
  const values: Partial<Record<BleField, number>> = {
    temperature: view.getInt16(6, true) / 100,
    humidity: humidity / 100,
    voltage: view.getUint16(10, true) / 1000,
    battery,
    count: data[13],
  };
  return { ok: true, format: 'pvvx', values, sequence: data[13], mac: formatMac(Uint8Array.from(data.subarray(0, 6)).reverse()) };
}

/** Service data under 0x181A: the length tells the formats apart. */
export function decodeEnvironmentalSensing(data: Uint8Array, keys: CustomKeys = {}): DecodeResult {
  if (data.length === ATC_LENGTH || data.length === ATC_ENCRYPTED_LENGTH) return decodeAtc(data, keys);
  if (data.length === PVVX_LENGTH || data.length === PVVX_ENCRYPTED_LENGTH) return decodePvvx(data, keys);
  return decodeError(
    data.length < ATC_LENGTH ? 'truncated' : 'garbage',
    `0x181A service data of ${data.length} bytes is neither ATC1441 (13, encrypted 8) nor pvvx (15, encrypted 11)`,
  );
}
