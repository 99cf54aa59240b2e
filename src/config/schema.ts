import { z } from 'zod';
import { LOG_LEVELS } from '../core/logger';
import { driverConfigSchema } from '../../drivers';
import { uplinkSchema } from '../uplink/schema';
import { outboxSchema } from '../outbox/schema';
import { actuatorSchema } from './actuator';
import { commandsSchema } from '../commands/schema';
import { duration } from '../core/duration';
import { deploySchema } from '../deploy/schema';

export const gatewaySchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'gateway id: letters, digits, _ and - (it becomes an MQTT topic level)')
      .describe('Gateway id; topics are <prefix>/<id>/...'),
    stateDir: z.string().optional().describe('State directory (outbox, driver state). Flag --state and FIELDGATE_STATE override; default /var/lib/fieldgate.'),
    rulesDir: z.string().optional().describe('Rules directory. Flag --rules and FIELDGATE_RULES override; default /etc/fieldgate/rules.d.'),
    logLevel: z.enum(LOG_LEVELS).default('info').describe('debug, info, warn, error or silent. Flag --log-level overrides.'),
    clockSync: z
      .enum(['auto', 'assume'])
      .default('auto')
      .describe('auto: flag readings taken before the clock is synchronised (systemd-timesyncd / chrony); assume: always trust the clock.'),
    driverRestart: z
      .strictObject({
        initial: duration('First delay before restarting a failed driver.').default(1000),
        max: duration('Longest delay between driver restarts.').default(60_000),
      })
      .default({ initial: 1000, max: 60_000 }),
    shutdownTimeout: duration('Longest a clean shutdown may take before the daemon exits anyway.').default(10_000),
  })
  .describe('This gateway.');

export const controlSchema = z
  .strictObject({
    socket: z.string().optional().describe('Control socket path (default /run/fieldgate/control.sock; FIELDGATE_SOCKET overrides).'),
    group: z.string().optional().describe('Group that owns the socket (mode 0660), e.g. "fieldgate".'),
  })
  .describe('Local control socket used by the fieldgate CLI.');

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    gateway: gatewaySchema,
    uplink: uplinkSchema.optional(),
    outbox: outboxSchema.default(outboxSchema.parse({})),
    drivers: z.array(driverConfigSchema).default([]).describe('Device interfaces and the sensors on them.'),
    actuators: z.array(actuatorSchema).default([]).describe('Outputs the gateway drives through drivers.'),
    control: controlSchema.default({}),
    commands: commandsSchema.default(commandsSchema.parse({})),
    deploy: deploySchema.default(deploySchema.parse({})),
  })
  .describe('fieldgate gateway configuration');

export type GatewayConfig = z.infer<typeof configSchema>;

/** JSON Schema for editors (yaml-language-server), generated from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
  return { ...schema, title: 'fieldgate gateway configuration' };
}
