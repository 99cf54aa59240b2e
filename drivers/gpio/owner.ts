import type { GatewayConfig } from '../../src/config/schema';
import { gpioTargetSchema } from './schema';

export interface PinOwner {
  role: 'actuator' | 'input';
  /** Actuator id or input sensor id. */
  id: string;
  driver: string;
}

/**
 * Who uses a BCM pin in a gateway config: an actuator bound to a gpio driver,
 * or an input of one. Used by `fieldgate gpio write` to refuse touching a pin
 * the running daemon owns.
 */
export function pinOwner(config: GatewayConfig, pin: number): PinOwner | undefined {
  const gpioDrivers = config.drivers.filter((d) => d.kind === 'gpio');
  for (const a of config.actuators) {
    if (!gpioDrivers.some((d) => d.id === a.driver)) continue;
    const t = gpioTargetSchema.safeParse(a.target);
    if (t.success && t.data.pin === pin) return { role: 'actuator', id: a.id, driver: a.driver };
  }
  for (const d of gpioDrivers) {
    const inputs = (d as { inputs?: { id: string; pin: number }[] }).inputs ?? [];
    const input = inputs.find((i) => i.pin === pin);
    if (input) return { role: 'input', id: input.id, driver: d.id };
  }
  return undefined;
}
