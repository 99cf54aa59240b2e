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
 */
export const ENVIRONMENTAL_SENSING_UUID = '181a';
export const ATC_LENGTH = 13;
export const PVVX_LENGTH = 15;

export function decodeAtc(data: Uint8Array): DecodeResult {
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

export function decodePvvx(data: Uint8Array): DecodeResult {
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

/** Service data under 0x181A: the length tells the two formats apart. */
export function decodeEnvironmentalSensing(data: Uint8Array): DecodeResult {
  if (data.length === ATC_LENGTH) return decodeAtc(data);
  if (data.length === PVVX_LENGTH) return decodePvvx(data);
  return decodeError(data.length < ATC_LENGTH ? 'truncated' : 'garbage', `0x181A service data of ${data.length} bytes is neither ATC1441 (13) nor pvvx (15)`);
}
