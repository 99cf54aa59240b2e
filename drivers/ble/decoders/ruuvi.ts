import { decodeError, formatMac, type BleField, type DecodeResult } from './result';

/**
 * RuuviTag data format 5 (RAWv2), https://docs.ruuvi.com/communication/bluetooth-advertisements/data-format-5-rawv2.
 * Manufacturer data, company id 0x0499 (little-endian on air: 99 04), then 24
 * big-endian bytes:
 *
 *   0 format (5) | 1-2 temperature int16 × 0.005 °C | 3-4 humidity uint16 × 0.0025 %
 *   5-6 pressure uint16 + 50000 Pa | 7-12 acceleration x,y,z int16 mG
 *   13-14 power: 11 bits battery mV above 1600, 5 bits tx power in 2 dBm above -40
 *   15 movement counter | 16-17 measurement sequence | 18-23 MAC
 *
 * Pressure is reported in hPa like the other formats. Each field's "not available" value (0x8000, 0xFFFF, 0x7FF, 0x1F, 0xFF,
 * FF:FF:FF:FF:FF:FF) leaves that field absent.
 */
export const RUUVI_COMPANY_ID = 0x0499;
const PAYLOAD_LENGTH = 24;

/** Decode manufacturer data that starts with the 2-byte company id. */
export function decodeRuuvi(manufacturerData: Uint8Array): DecodeResult {
  if (manufacturerData.length < 3) return decodeError('truncated', `Ruuvi: manufacturer data of ${manufacturerData.length} byte(s) is too short`, 'ruuvi');
  const company = manufacturerData[0] | (manufacturerData[1] << 8);
  if (company !== RUUVI_COMPANY_ID) {
    return decodeError('absent', `Ruuvi: company id 0x${company.toString(16).padStart(4, '0')} is not Ruuvi (0x0499)`, 'ruuvi');
  }
  const d = manufacturerData.subarray(2);
  if (d[0] !== 5) return decodeError('unsupported', `Ruuvi: data format ${d[0]} is not supported (only 5 / RAWv2)`, 'ruuvi');
  if (d.length < PAYLOAD_LENGTH) return decodeError('truncated', `Ruuvi: format 5 needs ${PAYLOAD_LENGTH} bytes, got ${d.length}`, 'ruuvi');

  const view = new DataView(d.buffer, d.byteOffset, PAYLOAD_LENGTH);
  const values: Partial<Record<BleField, number>> = {};
  const temp = view.getInt16(1);
  if (temp !== -0x8000) values.temperature = temp / 200;
  const hum = view.getUint16(3);
  if (hum !== 0xffff) values.humidity = hum / 400;
  const pres = view.getUint16(5);
  if (pres !== 0xffff) values.pressure = (pres + 50000) / 100; // Pa → hPa, the unit every format uses
  const axes: BleField[] = ['accelerationX', 'accelerationY', 'accelerationZ'];
  axes.forEach((field, i) => {
    const a = view.getInt16(7 + 2 * i);
    if (a !== -0x8000) values[field] = a;
  });
  const power = view.getUint16(13);
  const batt = power >> 5;
  if (batt !== 0x7ff) values.voltage = (1600 + batt) / 1000;
  const tx = power & 0x1f;
  if (tx !== 0x1f) values.txPower = -40 + 2 * tx;
  const movement = d[15];
  if (movement !== 0xff) values.movementCounter = movement;
  const seq = view.getUint16(16);
  if (seq !== 0xffff) values.sequence = seq;
  const macBytes = d.subarray(18, 24);
  const mac = macBytes.every((b) => b === 0xff) ? undefined : formatMac(macBytes);
  return { ok: true, format: 'ruuvi', values, sequence: values.sequence, mac };
}
