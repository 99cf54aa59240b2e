import type { DriverKind } from '../driver';
import { ModbusDriver } from './driver';
import { modbusDriverSchema, modbusTargetSchema, type ModbusDriverConfig } from './schema';

export const modbusDriver: DriverKind<ModbusDriverConfig> = {
  kind: 'modbus',
  schema: modbusDriverSchema,
  targetSchema: modbusTargetSchema,
  sensors: (c) =>
    c.devices.flatMap((d, di) =>
      d.sensors.map((s, si) => ({ ...s, driver: c.id, path: ['devices', di, 'sensors', si], intervalMs: s.interval ?? d.interval })),
    ),
  create: (c, ctx) => new ModbusDriver(c, ctx),
};
