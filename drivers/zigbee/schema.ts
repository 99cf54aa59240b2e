import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';
import { ZIGBEE_FIELDS } from './clusters';

export const IEEE_RE = /^0x[0-9a-fA-F]{16}$/;
export const ADAPTER_TYPES = ['zstack', 'ember', 'deconz', 'zigate'] as const;
/** Longest permit-join window; Zigbee's own limit is 254 s. */
export const PERMIT_JOIN_MAX = 254;

export const zigbeeSensorSchema = z
  .strictObject({
    ...sensorFields,
    field: z.enum(ZIGBEE_FIELDS).describe('Reported value: temperature, humidity, pressure, illuminance, occupancy, onOff, level, power, voltage, current, energy, battery, batteryVoltage, contact.'),
    endpoint: z.number().int().min(1).max(240).optional().describe('Only reports from this endpoint (default: any).'),
    scale: z.number().default(1).describe('Multiply the value (e.g. 0.1 for a meter reporting power in 0.1 W).'),
  })
  .describe('A sensor fed from a Zigbee attribute report.');

export const reportingSchema = z.strictObject({
  cluster: z.string().min(1).describe('ZCL cluster name, e.g. msTemperatureMeasurement.'),
  attribute: z.string().min(1).describe('Attribute name, e.g. measuredValue.'),
  endpoint: z.number().int().min(1).max(240).optional(),
  min: duration('Minimum report interval.').default(10_000),
  max: duration('Maximum report interval (the device reports at least this often).').default(3_600_000),
  change: z.number().optional().describe('Reportable change in raw units.'),
});

export const zigbeeDeviceSchema = z
  .strictObject({
    ieee: z.string().regex(IEEE_RE, 'IEEE address such as "0x00158d0001a2b3c4"').describe('IEEE address of the device.'),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'letters, digits and _ . : -').describe('Friendly name (CLI, actuator targets).'),
    sensors: z.array(zigbeeSensorSchema).default([]),
    reporting: z.array(reportingSchema).default([]).describe('Reporting configured on the device after each successful interview.'),
  })
  .describe('A Zigbee device, by IEEE address.');

export const zigbeeDriverSchema = z
  .strictObject({
    kind: z.literal('zigbee'),
    id: z.string().min(1).describe('Driver instance id.'),
    adapter: z
      .strictObject({
        type: z.enum(ADAPTER_TYPES).describe('Coordinator firmware: zstack (TI CC26x2/CC2652), ember (Silabs EFR32), deconz (ConBee/RaspBee), zigate.'),
        path: z.string().min(1).describe('Serial port, preferably /dev/serial/by-id/... (stable across replugs).'),
        baudRate: z.number().int().positive().optional(),
        rtscts: z.boolean().optional(),
      })
      .describe('Coordinator adapter.'),
    channel: z.number().int().min(11).max(26).default(11).describe('Zigbee channel 11-26 (prefer 11, 15, 20 or 25, clear of Wi-Fi).'),
    panId: z.number().int().min(1).max(0xfffe).default(0x1a62).describe('PAN id; make it differ between neighbouring gateways.'),
    networkKeyFile: z.string().optional().describe('File holding the network key (default: network-key in the driver state dir; created with a random key).'),
    permitJoinMax: z.number().int().min(1).max(PERMIT_JOIN_MAX).default(PERMIT_JOIN_MAX).describe('Upper bound of a permit-join window, seconds.'),
    availabilityTimeout: duration('A device silent for longer is reported unavailable.').default(25 * 3_600_000),
    retry: z
      .strictObject({
        initial: duration('First delay before retrying the adapter.').default(5000),
        max: duration('Longest delay between adapter retries.').default(300_000),
      })
      .default({ initial: 5000, max: 300_000 }),
    devices: z.array(zigbeeDeviceSchema).default([]),
  })
  .describe('Zigbee devices through a coordinator (via zigbee-herdsman).');

const deviceTargetSchema = z
  .strictObject({
    device: z.string().min(1).describe('Friendly name or IEEE address of the device.'),
    endpoint: z.number().int().min(1).max(240).optional().describe('Endpoint (default: the first with the cluster).'),
    command: z.enum(['onOff', 'level']).describe('onOff: truthy → on, 0/false → off; level: 0..254 brightness/position.'),
    transition: z.number().min(0).default(0).describe('level: transition time in seconds.'),
  })
  .describe('Switch a Zigbee device or set its level.');

const permitJoinTargetSchema = z
  .strictObject({
    command: z.literal('permitJoin'),
  })
  .describe('Open the network for joining for VALUE seconds (capped at permitJoinMax; 0 closes it). Use with a number actuator, e.g. for a cloud permit-join command.');

export const zigbeeTargetSchema = z.union([deviceTargetSchema, permitJoinTargetSchema]);

export type ZigbeeDriverConfig = z.infer<typeof zigbeeDriverSchema>;
export type ZigbeeDeviceConfig = z.infer<typeof zigbeeDeviceSchema>;
export type ZigbeeTarget = z.infer<typeof zigbeeTargetSchema>;
