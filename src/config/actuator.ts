import { z } from 'zod';
import { duration } from '../core/duration';

/**
 * An actuator: a named output bound to a driver target. The target's own shape
 * is checked against the driver kind's `targetSchema` after parsing.
 */
export const actuatorSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'actuator id: letters, digits and _ . : -').describe('Actuator id, used in rules, topics and the CLI.'),
    driver: z.string().describe('Id of the driver that performs the writes.'),
    target: z.record(z.string(), z.unknown()).describe('Driver-specific binding (GPIO line, Modbus coil/register, Zigbee device, sim output ...).'),
    type: z.enum(['bool', 'number']).default('bool').describe('bool: on/off; number: analog value within min..max.'),
    values: z.array(z.number()).optional().describe('Allowed values (number actuators), if restricted to a set.'),
    min: z.number().optional().describe('Lowest allowed value (number actuators).'),
    max: z.number().optional().describe('Highest allowed value (number actuators).'),
    initial: z.union([z.boolean(), z.number()]).optional().describe('Value written at start-up.'),
    failsafe: z.union([z.boolean(), z.number()]).optional().describe('Value applied when a controlling rule input goes stale or bad, and on shutdown when failsafeOnShutdown.'),
    failsafeOnShutdown: z.boolean().default(true).describe('Apply the failsafe value when the daemon stops.'),
    minOn: duration('Shortest time the actuator stays on once switched on.').default(0),
    minOff: duration('Shortest time the actuator stays off once switched off.').default(0),
    maxWritesPerMinute: z.number().int().positive().default(60).describe('Write rate limit.'),
    cloud: z.boolean().default(false).describe('Whether cloud commands may drive this actuator.'),
    verify: z.boolean().default(false).describe('Read back after writing, where the driver supports it.'),
    round: z
      .boolean()
      .default(false)
      .describe('Round command and rule `set` values to what the target can hold (12.7 to an int16 register writes 13, and the result says 13) instead of refusing them.'),
    cloudOverridesLocal: z
      .boolean()
      .default(false)
      .describe('Let cloud commands replace a hold set on site with `fieldgate actuate` (default: the local hold wins until released).'),
  })
  .describe('An output the gateway drives.');

export type ActuatorConfig = z.infer<typeof actuatorSchema>;
