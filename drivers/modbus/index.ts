import type { DriverKind } from '../driver';
import { modbusTargetValue } from './target-value';
import { modbusDriverSchema, modbusTargetSchema, type ModbusDriverConfig } from './schema';

export const modbusDriver: DriverKind<ModbusDriverConfig> = {
  kind: 'modbus',
  schema: modbusDriverSchema,
  targetSchema: modbusTargetSchema,
  targetValue: modbusTargetValue,
  sensors: (c) =>
    c.devices.flatMap((d, di) =>
      d.sensors.map((s, si) => ({ ...s, driver: c.id, path: ['devices', di, 'sensors', si], intervalMs: s.interval ?? d.interval })),
    ),
  // serialport and modbus-serial are loaded only when a Modbus bus is configured.
  create: async (c, ctx) => {
    const { ModbusDriver } = await import('./driver.js');
    return new ModbusDriver(c, ctx);
  },
};
