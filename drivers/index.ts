import { z } from 'zod';
import type { ActuatorTargetValue, DriverKind } from './driver';
import { simDriver } from './sim';
import { bleDriver } from './ble/kind';
import { zigbeeDriver } from './zigbee/kind';
import { gpioDriver } from './gpio/kind';
import { adcDriver } from './adc';
import { modbusDriver } from './modbus';

/**
 * The driver registry: `kind` → driver kind. Written out, no directory scanning.
 * Kinds that need heavy stacks (noble, zigbee-herdsman, onoff) import them lazily
 * inside create(), so listing them here costs nothing on a machine without them.
 */
// Driver kinds have heterogeneous config types; the registry erases them to the base
// DriverKind, and each factory receives the config its own schema parsed.
export const DRIVER_KINDS: readonly DriverKind[] = [simDriver as unknown as DriverKind, bleDriver as unknown as DriverKind, zigbeeDriver as unknown as DriverKind, gpioDriver as unknown as DriverKind, adcDriver as unknown as DriverKind, modbusDriver as unknown as DriverKind];

const byKind = new Map(DRIVER_KINDS.map((d) => [d.kind, d]));

export function driverKind(kind: string): DriverKind {
  const k = byKind.get(kind);
  if (!k) throw new Error(`unknown driver kind "${kind}"; valid kinds: ${[...byKind.keys()].join(', ')}`);
  return k;
}

/** targetValue of each actuator's driver kind, for the configured `drivers` (what rules, commands and the arbiter check values against). */
export function actuatorTargetValue(drivers: readonly { id: string; kind: string }[]): ActuatorTargetValue {
  const kinds = new Map(drivers.map((d) => [d.id, byKind.get(d.kind)]));
  return (a, value) => kinds.get(a.driver)?.targetValue?.(a.target, value);
}

export function driverKindNames(): string[] {
  return [...byKind.keys()];
}

/** Schema of one `drivers:` entry: a union discriminated by `kind`. */
export type DriverConfig = { kind: string; id: string } & Record<string, unknown>;
export const driverConfigSchema = z.discriminatedUnion(
  'kind',
  DRIVER_KINDS.map((d) => d.schema) as unknown as [z.ZodObject<{ kind: z.ZodLiteral<string> }>, ...z.ZodObject<{ kind: z.ZodLiteral<string> }>[]],
) as unknown as z.ZodType<DriverConfig>;
