import type { SensorDecl } from '../../src/config/sensor';
import type { DriverKind } from '../driver';
import type { GpioDriverOptions } from './gpio';
import { gpioDriverSchema, gpioTargetSchema, type GpioDriverConfig } from './schema';

function sensors(c: GpioDriverConfig): SensorDecl[] {
  const out: SensorDecl[] = [];
  c.inputs.forEach((input, i) => {
    const intervalMs = input.mode === 'counter' ? (input.counter?.rateWindow ?? 60_000) : input.interval;
    out.push({ ...input, driver: c.id, path: ['inputs', i], intervalMs });
    const total = input.counter?.total;
    if (total) out.push({ ...total, driver: c.id, path: ['inputs', i, 'counter', 'total'], intervalMs });
  });
  return out;
}

/**
 * The gpio driver kind with construction-time options; `makeGpioDriverKind({ lineFactory: fakeChip })`
 * gives a kind whose drivers use a FakeGpioChip (end-to-end tests).
 */
export function makeGpioDriverKind(options: GpioDriverOptions = {}): DriverKind<GpioDriverConfig> {
  return {
    kind: 'gpio',
    schema: gpioDriverSchema,
    targetSchema: gpioTargetSchema,
    sensors,
    // The implementation (and through it any hardware stack) loads on first use.
    create: async (c, ctx) => {
      const { GpioDriver } = await import('./gpio.js');
      return new GpioDriver(c, ctx, options);
    },
  };
}

export const gpioDriver = makeGpioDriverKind();
