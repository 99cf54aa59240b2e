import type { DriverKind } from '../driver';
import { AdcDriver } from './adc';
import { adcDriverSchema, type AdcDriverConfig } from './schema';

export { AdcDriver } from './adc';

export const adcDriver: DriverKind<AdcDriverConfig> = {
  kind: 'adc',
  schema: adcDriverSchema,
  sensors: (c) => c.channels.map((ch, i) => ({ ...ch, driver: c.id, path: ['channels', i], intervalMs: ch.interval })),
  create: (c, ctx) => new AdcDriver(c, ctx),
};
