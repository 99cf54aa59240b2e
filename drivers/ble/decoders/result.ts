/**
 * What every BLE advertisement decoder returns: named numeric fields, or a
 * reason the payload was rejected. Decoders are pure functions and never throw:
 * a truncated or garbage payload is a value (`ok: false`), not an exception.
 */

export const BLE_FORMATS = ['bthome', 'ruuvi', 'atc', 'pvvx'] as const;
export type BleFormat = (typeof BLE_FORMATS)[number];

/** encrypted: no (usable) key for an encrypted frame; decrypt: the key did not authenticate the frame. */
export type DecodeErrorKind = 'truncated' | 'garbage' | 'unsupported' | 'encrypted' | 'decrypt' | 'absent';

export interface Decoded {
  ok: true;
  format: BleFormat;
  /** Decoded values by field name (see BLE_FIELDS); a repeated field's first value. Invalid/unavailable fields are absent. */
  values: Partial<Record<BleField, number>>;
  /** Fields the payload carries more than once (BTHome: e.g. two voltages), every value in frame order. */
  repeated?: Partial<Record<BleField, number[]>>;
  /** The payload was encrypted and authenticated with the device's key. */
  encrypted?: boolean;
  /** The device's own packet counter, if the format has one (used to skip repeated advertisements). */
  sequence?: number;
  /** MAC address the payload carries (Ruuvi, ATC, pvvx), lower-case aa:bb:cc:dd:ee:ff. */
  mac?: string;
  /** Set when decoding stopped early (e.g. an unknown BTHome object id); values before it are kept. */
  warning?: string;
}

export interface DecodeError {
  ok: false;
  format?: BleFormat;
  kind: DecodeErrorKind;
  error: string;
}

export type DecodeResult = Decoded | DecodeError;

export function decodeError(kind: DecodeErrorKind, error: string, format?: BleFormat): DecodeError {
  return { ok: false, kind, error, format };
}

/**
 * Field names decoded values can have; a sensor maps one of these to a sensor id.
 * `rssi` comes from the advertisement itself rather than the payload. Units are
 * the same whatever the format: temperature °C, humidity %, pressure hPa,
 * battery %, voltage V, current A, power W, energy kWh, illuminance lux,
 * acceleration{X,Y,Z} mG (Ruuvi), acceleration m/s² (BTHome), txPower dBm,
 * distance mm, duration s, volume/water/volumeStorage L, gas m³, flowRate m³/h,
 * gyroscope °/s, conductivity µS/cm, direction °, precipitation mm, rotationalSpeed
 * rpm, speed m/s, massLb lb, timestamp s since 1970; binary states (motion, door ...) 0/1.
 */
export const BLE_FIELDS = [
  'rssi',
  'packetId',
  'battery',
  'batteryLow',
  'temperature',
  'humidity',
  'pressure',
  'illuminance',
  'dewPoint',
  'voltage',
  'current',
  'power',
  'energy',
  'count',
  'co2',
  'tvoc',
  'pm25',
  'pm10',
  'moisture',
  'mass',
  'distance',
  'rotation',
  'uvIndex',
  'speed',
  'motion',
  'moving',
  'occupancy',
  'presence',
  'door',
  'window',
  'opening',
  'generic',
  'powerOn',
  'vibration',
  'smoke',
  'tamper',
  'button',
  'accelerationX',
  'accelerationY',
  'accelerationZ',
  'txPower',
  'movementCounter',
  'sequence',
  'massLb',
  'batteryCharging',
  'carbonMonoxide',
  'cold',
  'connectivity',
  'garageDoor',
  'gasDetected',
  'heat',
  'light',
  'lock',
  'moistureDetected',
  'plug',
  'problem',
  'running',
  'safety',
  'sound',
  'duration',
  'volume',
  'flowRate',
  'gas',
  'water',
  'volumeStorage',
  'timestamp',
  'acceleration',
  'gyroscope',
  'conductivity',
  'direction',
  'precipitation',
  'channel',
  'rotationalSpeed',
  'lightLevel',
] as const;
export type BleField = (typeof BLE_FIELDS)[number];

/** "a4c138aabbcc" bytes → "a4:c1:38:aa:bb:cc". */
export function formatMac(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}
