import type { SensorDecl } from '../../src/config/sensor';
import type { DriverKind } from '../driver';
import type { ZigbeeDriverOptions } from './zigbee-driver';
import { zigbeeDriverSchema, zigbeeTargetSchema, type ZigbeeDriverConfig } from './schema';

function sensors(c: ZigbeeDriverConfig): SensorDecl[] {
  return c.devices.flatMap((d, i) => d.sensors.map((s, j) => ({ ...s, driver: c.id, path: ['devices', i, 'sensors', j] })));
}

/** The Zigbee driver kind; `options` injects a controller (tests, demos). zigbee-herdsman is only loaded by start(). */
export function createZigbeeDriverKind(options: ZigbeeDriverOptions = {}): DriverKind<ZigbeeDriverConfig> {
  return {
    kind: 'zigbee',
    schema: zigbeeDriverSchema,
    targetSchema: zigbeeTargetSchema,
    sensors,
    // The implementation (and through it any hardware stack) loads on first use.
    create: async (c, ctx) => {
      const { ZigbeeDriver } = await import('./zigbee-driver.js');
      return new ZigbeeDriver(c, ctx, options);
    },
  };
}

export const zigbeeDriver = createZigbeeDriverKind();
