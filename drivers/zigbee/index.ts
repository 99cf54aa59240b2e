import type { SensorDecl } from '../../src/config/sensor';
import type { DriverKind } from '../driver';
import { ZigbeeDriver, type ZigbeeDriverOptions } from './zigbee-driver';
import { zigbeeDriverSchema, zigbeeTargetSchema, type ZigbeeDriverConfig } from './schema';

export { ZigbeeDriver, type ZigbeeDriverOptions, type ZigbeeDeviceView } from './zigbee-driver';
export { FakeZigbeeController, loadZigbeeRecording, type ZigbeeRecording } from './fake-controller';
export type { ZigbeeController, ZigbeeEvent, ZigbeeDeviceInfo } from './controller';

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
    create: (c, ctx) => new ZigbeeDriver(c, ctx, options),
  };
}

export const zigbeeDriver = createZigbeeDriverKind();
