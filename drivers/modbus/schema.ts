import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';

/** Modbus data tables. coil/discrete are bits; input/holding are 16-bit registers. */
export const REGISTER_KINDS = ['coil', 'discrete', 'input', 'holding'] as const;
export type RegisterKind = (typeof REGISTER_KINDS)[number];

export const DATA_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export type DataType = (typeof DATA_TYPES)[number];

/** Byte order of a multi-register value; A is the most significant byte. */
export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

/** Protocol limits (Modbus application protocol spec v1.1b3, FC 1-4). */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;

const address = z.number().int().min(0).max(65535);

export const serialBusSchema = z
  .strictObject({
    type: z.literal('serial'),
    path: z.string().min(1).describe('Serial device; prefer a stable /dev/serial/by-id/... path over /dev/ttyUSB0.'),
    baudRate: z.number().int().positive().default(9600).describe('Line speed in baud.'),
    parity: z.enum(['none', 'even', 'odd']).default('none').describe('Parity bit (Modbus RTU default per spec: even).'),
    dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
    stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
    interFrameDelay: duration(
      'Silence kept on the line between a response and the next request. Default: 3.5 character times at the baud rate (1.75 ms above 19200 baud).',
    ).optional(),
  })
  .describe('An RS232/RS485 line driven in Modbus RTU: one transaction at a time.');

export const tcpBusSchema = z
  .strictObject({
    type: z.literal('tcp'),
    host: z.string().min(1).describe('Modbus TCP server or TCP-to-RTU gateway host.'),
    port: z.number().int().min(1).max(65535).default(502),
  })
  .describe('A Modbus TCP connection; devices (unit ids) behind it are polled in parallel.');

export const busSchema = z.discriminatedUnion('type', [serialBusSchema, tcpBusSchema]);

const isBitTable = (r: RegisterKind) => r === 'coil' || r === 'discrete';

const dataTypeRefinements = (
  p: { register: RegisterKind; type?: DataType; bit?: number; length?: number },
  ctx: z.RefinementCtx,
) => {
  const bits = isBitTable(p.register);
  if (bits && p.type !== undefined && p.type !== 'bool') ctx.addIssue({ code: 'custom', path: ['type'], message: `${p.register} points are bits: type must be bool` });
  if (!bits && p.type === 'bool' && p.bit === undefined) {
    ctx.addIssue({ code: 'custom', path: ['bit'], message: 'a bool from a register needs bit (0-15)' });
  }
  if (p.bit !== undefined && (bits || p.type !== 'bool')) {
    ctx.addIssue({ code: 'custom', path: ['bit'], message: 'bit applies only to type bool on input/holding registers' });
  }
  if (p.type === 'string' && p.length === undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: 'type string needs length (in registers)' });
  if (p.type !== 'string' && p.length !== undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: 'length applies only to type string' });
};

export const modbusPointSchema = z
  .strictObject({
    ...sensorFields,
    register: z.enum(REGISTER_KINDS).describe('Data table: coil (FC1), discrete (FC2), input (FC4) or holding (FC3).'),
    address: address.describe('Zero-based protocol address (register 40001 is holding address 0).'),
    type: z.enum(DATA_TYPES).optional().describe('Data type. Default: bool for coils and discrete inputs, uint16 for registers.'),
    order: z.enum(WORD_ORDERS).default('ABCD').describe('Byte order of multi-byte values: ABCD big-endian, CDAB word-swapped, BADC byte-swapped, DCBA little-endian.'),
    bit: z.number().int().min(0).max(15).optional().describe('For type bool on a register: the bit (0 = least significant).'),
    length: z.number().int().min(1).max(MAX_READ_REGISTERS).optional().describe('For type string: number of registers (2 characters each).'),
    scale: z.number().default(1).describe('Value = raw × scale + offset (numbers only).'),
    offset: z.number().default(0),
    interval: duration('Poll interval of this point; default: the device interval.').optional(),
  })
  .superRefine(dataTypeRefinements)
  .transform((p) => ({ ...p, type: p.type ?? (isBitTable(p.register) ? 'bool' : 'uint16') }) as typeof p & { type: DataType })
  .describe('One Modbus point read as a sensor.');

export const modbusDeviceSchema = z
  .strictObject({
    name: z.string().min(1).describe('Device name, unique on this bus (used in health, logs and actuator targets).'),
    unit: z.number().int().min(0).max(255).describe('Unit id (slave address); 1-247 on a serial line.'),
    interval: duration('Default poll interval of this device\'s points.').default(1000),
    timeout: duration('Time to wait for a response.').default(500),
    retries: z.number().int().min(0).max(10).default(1).describe('Extra attempts after a timeout or CRC error (other devices get a turn in between).'),
    maxGap: z.number().int().min(0).max(MAX_READ_REGISTERS).default(10).describe('Largest run of unused registers (or bits) a read may span to merge two points.'),
    maxRegisters: z.number().int().min(1).max(MAX_READ_REGISTERS).default(MAX_READ_REGISTERS).describe('Most registers per read request (protocol limit 125).'),
    maxBits: z.number().int().min(1).max(MAX_READ_BITS).default(MAX_READ_BITS).describe('Most coils/discrete inputs per read request (protocol limit 2000).'),
    forbidden: z
      .array(z.tuple([address, address]))
      .default([])
      .describe('Address ranges [from, to] (inclusive) a read must never span; ranges answering ILLEGAL DATA ADDRESS are also learned at run time.'),
    degradeAfter: z.number().int().min(1).default(3).describe('Failed poll cycles in a row after which the device is degraded (skipped).'),
    degradeFor: duration('How long a degraded device is skipped before it is probed again.').default(30_000),
    sensors: z.array(modbusPointSchema).default([]),
  })
  .describe('One Modbus device (unit id) on the bus.');

export const modbusDriverSchema = z
  .strictObject({
    kind: z.literal('modbus'),
    id: z.string().min(1).describe('Driver instance id (one per bus).'),
    bus: busSchema,
    reopen: z
      .strictObject({
        initial: duration('First delay before reopening a lost port.').default(500),
        max: duration('Longest delay between reopen attempts.').default(30_000),
      })
      .default({ initial: 500, max: 30_000 }),
    devices: z.array(modbusDeviceSchema).min(1),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.devices.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'name'], message: `duplicate device name "${d.name}"` });
      seen.add(d.name);
      if (c.bus.type === 'serial' && (d.unit < 1 || d.unit > 247)) {
        ctx.addIssue({ code: 'custom', path: ['devices', i, 'unit'], message: 'unit id on a serial line must be 1-247' });
      }
    });
  })
  .describe('One Modbus bus (an RS232/RS485 line in RTU, or a Modbus TCP connection) and the devices on it.');

export const modbusTargetSchema = z
  .strictObject({
    device: z.string().min(1).describe('Name of the device on this bus.'),
    register: z.enum(['coil', 'holding']).describe('coil (FC5/FC15) or holding register (FC6/FC16).'),
    address: address,
    type: z.enum(DATA_TYPES).default('uint16').describe('Data type written to holding registers (coils are bool).'),
    order: z.enum(WORD_ORDERS).default('ABCD'),
    scale: z.number().default(1).describe('Raw = (value - offset) / scale.'),
    offset: z.number().default(0),
    multiple: z.boolean().default(false).describe('Use FC15/FC16 even for one coil/register (devices that lack FC5/FC6).'),
    verify: z.boolean().default(false).describe('Read the value back after writing and fail if it differs.'),
  })
  .refine((t) => t.type !== 'string', { message: 'string targets are not supported', path: ['type'] });

export type ModbusDriverConfig = z.infer<typeof modbusDriverSchema>;
export type ModbusDeviceConfig = z.infer<typeof modbusDeviceSchema>;
export type ModbusPointConfig = z.infer<typeof modbusPointSchema>;
export type ModbusTarget = z.infer<typeof modbusTargetSchema>;
export type SerialBusConfig = z.infer<typeof serialBusSchema>;
export type BusConfig = z.infer<typeof busSchema>;

/** Inter-frame silence: the configured value, or 3.5 character times (1.75 ms above 19200 baud). */
export function interFrameDelayMs(bus: BusConfig): number {
  if (bus.type !== 'serial') return 0;
  if (bus.interFrameDelay !== undefined) return bus.interFrameDelay;
  if (bus.baudRate > 19200) return 1.75;
  const bitsPerChar = 1 + bus.dataBits + (bus.parity === 'none' ? 0 : 1) + bus.stopBits;
  return (3.5 * bitsPerChar * 1000) / bus.baudRate;
}
