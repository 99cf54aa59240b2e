import type { SensorDecl } from '../../src/config/sensor';
import type { DriverKind } from '../driver';
import type { BleDriverOptions } from './ble-driver';
import { bleDriverSchema, bleTargetSchema, type BleDriverConfig } from './schema';

function sensors(c: BleDriverConfig): SensorDecl[] {
  const out: SensorDecl[] = [];
  c.devices.forEach((d, i) => {
    d.sensors.forEach((s, j) => out.push({ ...s, driver: c.id, path: ['devices', i, 'sensors', j] }));
    d.gatt.forEach((s, j) => out.push({ ...s, driver: c.id, path: ['devices', i, 'gatt', j], intervalMs: s.mode === 'poll' ? s.interval : undefined }));
  });
  return out;
}

/** The BLE driver kind; `options` injects a radio (tests, demos). noble is only loaded by start(). */
export function createBleDriverKind(options: BleDriverOptions = {}): DriverKind<BleDriverConfig> {
  return {
    kind: 'ble',
    schema: bleDriverSchema,
    targetSchema: bleTargetSchema,
    sensors,
    // The implementation (and through it any hardware stack) loads on first use.
    create: async (c, ctx) => {
      const { BleDriver } = await import('./ble-driver.js');
      return new BleDriver(c, ctx, options);
    },
  };
}

export const bleDriver = createBleDriverKind();
