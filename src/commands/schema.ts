import { z } from 'zod';
import { duration } from '../core/duration';

/** The `commands:` section: how cloud commands are bounded and answered. */
export const commandsSchema = z
  .strictObject({
    responseTopics: z
      .array(z.string().min(1))
      .default([])
      .describe('MQTT 5 response topics results may be sent to (MQTT filters, e.g. "app/replies/#"), besides the gateway\'s own <prefix>/<id>/#.'),
    dedupWindow: duration('How long a command id is remembered (exactly once); raised to at least uplink.sessionExpiry.').default(86_400_000),
    maxPerMinute: z.number().int().positive().default(60).describe('Commands accepted per actuator per minute; more are refused (counted) and not remembered.'),
    maxRejectionsPerMinute: z
      .number()
      .int()
      .positive()
      .default(600)
      .describe('Answers per minute to malformed, unknown-actuator and rate-limited commands; beyond it they are dropped unanswered (counted).'),
    writeAttempts: z.number().int().positive().default(3).describe('Write attempts (with backoff) before a command whose writes keep failing gets its final failed result.'),
  })
  .describe('Cloud commands.');

export type CommandsConfig = z.infer<typeof commandsSchema>;
