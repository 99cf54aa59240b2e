import type { DriverKind } from '../driver';
import { simDriverSchema, simTargetSchema, type SimDriverConfig } from './schema';
import { SimDriver } from './sim';

export const simDriver: DriverKind<SimDriverConfig> = {
  kind: 'sim',
  schema: simDriverSchema,
  targetSchema: simTargetSchema,
  sensors: (c) =>
    c.sensors.map((s, i) => ({ ...s, driver: c.id, path: ['sensors', i], intervalMs: s.interval })),
  create: (c, ctx) => new SimDriver(c, ctx),
};
