import { z } from 'zod';
import { duration } from '../core/duration';
import { urlHasCredentials } from './broker-url';

const tlsSchema = z
  .strictObject({
    ca: z.string().optional().describe('Path to a PEM CA bundle used to verify the broker.'),
    cert: z.string().optional().describe('Path to the client certificate (mutual TLS).'),
    key: z.string().optional().describe('Path to the client private key (mutual TLS).'),
    rejectUnauthorized: z.boolean().default(true).describe('Verify the broker certificate (leave true outside a lab).'),
  })
  .describe('TLS settings for mqtts:// and wss:// brokers.');

export const uplinkSchema = z
  .strictObject({
    brokers: z
      .array(
        z
          .string()
          .regex(/^(mqtts?|wss?|tcp|ssl):\/\/.+/, 'broker URL like mqtt://host:1883 or mqtts://host:8883')
          .refine((url) => !urlHasCredentials(url), 'credentials in a broker URL are not allowed (they would show in logs and status): use uplink.username and uplink.passwordFile'),
      )
      .min(1)
      .describe('Broker URLs in order of preference; the uplink fails over down the list and returns to the first.'),
    protocolVersion: z
      .union([z.literal(4), z.literal(5)])
      .default(5)
      .describe('MQTT protocol: 5, or 4 for MQTT 3.1.1. With 5 the uplink falls back to 3.1.1 if the broker refuses v5.'),
    clientId: z.string().optional().describe('Stable client id for the persistent session (default fieldgate-<gateway id>).'),
    username: z.string().optional(),
    password: z.string().optional().describe('Broker password (prefer passwordFile).'),
    passwordFile: z.string().optional().describe('File holding the broker password (first line). Read again at every connection attempt, so a rotated password needs no restart.'),
    passwordCommand: z
      .strictObject({
        command: z.array(z.string().min(1)).min(1).describe('Program and arguments (no shell); its first line of output is the password, e.g. a JWT or SAS token.'),
        lifetime: duration('How long a password it printed is good for: after this long online the uplink reconnects with a fresh one.').optional(),
        timeout: duration('Give up on the program after this long.').default(10_000),
      })
      .optional()
      .describe('Run a helper before every connection attempt for a short-lived password (token).'),
    tls: tlsSchema.optional(),
    qos: z
      .union([z.literal(0), z.literal(1)])
      .default(1)
      .describe('QoS for data and events. QoS 2 is not offered: several cloud brokers do not support it.'),
    topicPrefix: z.string().default('fieldgate').describe('Topics are <topicPrefix>/<gateway id>/...'),
    keepalive: duration('MQTT keepalive; a dead link is noticed after about 1.5 × this.').default(30_000),
    connectTimeout: duration('Give up a connection attempt after this long.').default(10_000),
    sessionExpiry: duration('MQTT 5 session expiry interval, so the broker keeps subscriptions and QoS1 state across reconnects.').default(86_400_000),
    heartbeat: duration('Interval of the health message on .../health.').default(30_000),
    batch: z
      .strictObject({
        maxReadings: z.number().int().min(1).max(10_000).default(500).describe('Readings per data message at most.'),
        maxDelay: duration('Longest a live reading waits for a batch to fill.').default(1000),
      })
      .default({ maxReadings: 500, maxDelay: 1000 }),
    inflight: z.number().int().min(1).max(1000).default(16).describe('Data messages published but not yet acknowledged, at most.'),
    failbackAfter: duration('While connected to a fallback broker, return to the first (preferred) broker after this long.').default(600_000),
    drainOnStop: duration('On a clean stop, wait at most this long for in-flight messages to be acknowledged before publishing offline and disconnecting.').default(2000),
    deliveryProof: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Prove delivery by a round trip on the data topic (the gateway subscribes to it briefly). Needs read access to <topicPrefix>/<id>/data.'),
        timeout: duration('A probe that has not come back after this long means the broker acknowledges but does not deliver; sending stops.').default(5000),
        interval: duration('Probe again this often while online.').default(600_000),
      })
      .default({ enabled: true, timeout: 5000, interval: 600_000 })
      .describe('Delivery proof: what the broker acknowledges must come back to the gateway.'),
    backoff: z
      .strictObject({
        initial: duration('First reconnect delay (upper bound; full jitter).').default(1000),
        max: duration('Longest reconnect delay.').default(60_000),
        maxUnreachable: duration(
          'Longest reconnect delay while the broker cannot be reached at all (connection refused, no route, DNS): its return is noticed this soon. Full jitter below it; a fleet of N gateways comes back at about N / this many connections per second.',
        ).default(5000),
      })
      .default({ initial: 1000, max: 60_000, maxUnreachable: 5000 }),
  })
  .superRefine((u, ctx) => {
    const given = (['password', 'passwordFile', 'passwordCommand'] as const).filter((k) => u[k] !== undefined);
    if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1]], message: `use one of password, passwordFile and passwordCommand (both ${given[0]} and ${given[1]} are set)` });
  })
  .describe('Cloud MQTT uplink.');

export type UplinkConfig = z.infer<typeof uplinkSchema>;
