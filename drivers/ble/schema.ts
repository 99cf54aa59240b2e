import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';
import { BLE_FIELDS, BLE_FORMATS } from './decoders/result';

const MAC_RE = /^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$/;
const UUID_RE = /^([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12})$/;

export const VALUE_TYPES = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32'] as const;

const mac = z.string().regex(MAC_RE, 'MAC address such as "A4:C1:38:12:34:56"');
const uuid = (what: string) => z.string().regex(UUID_RE, `${what} UUID: 16-bit ("181a") or 128-bit`);

/** How a characteristic's bytes become a number (and back, for writes). */
export const valueCodecFields = {
  service: uuid('GATT service').describe('Service UUID, 16-bit ("181a") or 128-bit.'),
  characteristic: uuid('GATT characteristic').describe('Characteristic UUID, 16-bit or 128-bit.'),
  type: z.enum(VALUE_TYPES).default('int16').describe('Number type of the value.'),
  endian: z.enum(['little', 'big']).default('little').describe('Byte order (BLE characteristics are usually little-endian).'),
  offset: z.number().int().min(0).default(0).describe('Byte offset of the value in the characteristic.'),
  scale: z.number().default(1).describe('value = raw × scale (writes: raw = value / scale).'),
};

export const bleFieldSensorSchema = z
  .strictObject({
    ...sensorFields,
    field: z.enum(BLE_FIELDS).describe('Decoded advertisement field this sensor reports (temperature °C, humidity %, pressure hPa, battery %, voltage V, rssi dBm, motion 0/1 ...).'),
    occurrence: z
      .number()
      .int()
      .min(1)
      .max(32)
      .default(1)
      .describe('Which value of the field when the payload carries it more than once (BTHome: e.g. two voltages), counted in frame order from 1.'),
  })
  .describe('A sensor fed from a decoded advertisement field.');

export const gattSensorSchema = z
  .strictObject({
    ...sensorFields,
    ...valueCodecFields,
    mode: z.enum(['notify', 'poll']).default('notify').describe('notify: subscribe to notifications; poll: read every `interval`.'),
    interval: duration('Read interval in poll mode.').default(60_000),
  })
  .describe('A sensor read from a GATT characteristic over a connection.');

export const bleDeviceSchema = z
  .strictObject({
    address: mac.describe('MAC address of the device.'),
    name: z.string().optional().describe('Friendly name (health, CLI).'),
    format: z.enum(['auto', ...BLE_FORMATS, 'none']).default('auto').describe('Advertisement format: auto, bthome, ruuvi, atc, pvvx, or none (GATT only).'),
    bindkey: z
      .string()
      .regex(/^[0-9A-Fa-f]{32}$/, 'bindkey: 32 hex digits (16 bytes)')
      .optional()
      .describe('AES key of an encrypted BTHome v2 or pvvx/ATC device, 32 hex digits. Never logged.'),
    minInterval: duration(
      'Advertisements repeat several times a second: without a packet counter, emit at most one set of readings per this interval (a new counter value always emits).',
    ).default(1000),
    sensors: z.array(bleFieldSensorSchema).default([]).describe('Advertisement fields mapped to sensors.'),
    gatt: z.array(gattSensorSchema).default([]).describe('Characteristics read over a GATT connection (kept open, reconnected with backoff).'),
  })
  .describe('A BLE device, by MAC address.');

export const bleDriverSchema = z
  .strictObject({
    kind: z.literal('ble'),
    id: z.string().min(1).describe('Driver instance id.'),
    hci: z.number().int().min(0).default(0).describe('HCI adapter index (0 = hci0).'),
    scanStallTimeout: duration('Restart the scan when no advertisement at all arrived for this long.').default(60_000),
    connectTimeout: duration('Longest a GATT connect + discovery may take.').default(20_000),
    reconnect: z
      .strictObject({
        initial: duration('First delay before reconnecting a dropped GATT link.').default(2000),
        max: duration('Longest delay between GATT reconnects.').default(300_000),
      })
      .default({ initial: 2000, max: 300_000 }),
    devices: z.array(bleDeviceSchema).default([]),
  })
  .describe('Bluetooth Low Energy: advertisement decoding (active scan) and GATT connections (via @abandonware/noble).');

export const bleTargetSchema = z
  .strictObject({
    device: mac.describe('MAC address of the device to write to.'),
    ...valueCodecFields,
    withoutResponse: z.boolean().default(false).describe('Write without response (faster, unconfirmed).'),
  })
  .describe('Write a number to a GATT characteristic.');

export type BleDriverConfig = z.infer<typeof bleDriverSchema>;
export type BleDeviceConfig = z.infer<typeof bleDeviceSchema>;
export type GattSensorConfig = z.infer<typeof gattSensorSchema>;
export type BleTarget = z.infer<typeof bleTargetSchema>;
export type ValueCodec = Pick<GattSensorConfig, 'type' | 'endian' | 'offset' | 'scale'>;
