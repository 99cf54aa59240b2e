/** Shared set-up for uplink tests: a temp outbox, an uplink, and an observing MQTT client. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Clock } from '../../src/core/clock';
import { systemClock } from '../../src/core/clock';
import { memoryLogger } from '../../src/core/logger';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema, type OutboxConfig } from '../../src/outbox/schema';
import { uplinkSchema, type UplinkConfig } from '../../src/uplink/schema';
import { Uplink, type MqttFactory } from '../../src/uplink/uplink';
import { waitFor } from '../helpers/wait';

type After = { after: (fn: () => void | Promise<void>) => void };

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface HarnessOptions {
  brokers: string[];
  uplink?: Record<string, unknown>;
  outbox?: Partial<OutboxConfig>;
  clock?: Clock;
  gatewayId?: string;
  mqttFactory?: MqttFactory;
  health?: () => Record<string, unknown>;
  random?: () => number;
  /** Applied after schema validation: what code (not a config file) could hand the uplink. */
  unchecked?: Partial<UplinkConfig>;
}

export function makeUplink(t: After, o: HarnessOptions) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-uplink-'));
  const clock = o.clock ?? systemClock;
  const log = memoryLogger('debug');
  const outbox = new Outbox({ path: path.join(dir, 'outbox.db'), config: outboxSchema.parse({ flushInterval: '20ms', ...o.outbox }), clock, log });
  const config = uplinkSchema.parse({
    brokers: o.brokers,
    keepalive: '5s',
    connectTimeout: '2s',
    heartbeat: '1h',
    backoff: { initial: '50ms', max: '200ms' },
    batch: { maxReadings: 500, maxDelay: '20ms' },
    ...o.uplink,
  });
  Object.assign(config, o.unchecked);
  const uplink = new Uplink({
    config,
    gatewayId: o.gatewayId ?? 'gw1',
    outbox,
    clock,
    log,
    health: o.health ?? (() => ({ drivers: 'ok' })),
    mqttFactory: o.mqttFactory,
    random: o.random,
  });
  t.after(async () => {
    await uplink.stop();
    outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { uplink, outbox, log, clock };
}

/** The uplink's delivery probe: an empty data batch with a "probe" field. */
export const isProbe = (payload: Buffer): boolean => payload.includes('"probe":');

/**
 * An observing client that records every message it receives on `filters`; the uplink's
 * delivery probes are left out unless `keepProbes`.
 */
export async function observe(t: After, url: string, filters: string[], opts: IClientOptions = {}, keepProbes = false) {
  const client: MqttClient = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 100, ...opts });
  const got: Received[] = [];
  t.after(() => client.endAsync(true));
  client.on('message', (topic, payload, packet) => {
    if (keepProbes || !isProbe(payload)) got.push({ topic, payload, retain: packet.retain });
  });
  if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
  return { client, got };
}

/** The retained payload of `topic` as a fresh client sees it. */
export async function retained(url: string, topic: string, opts: IClientOptions = {}): Promise<string | undefined> {
  const client = await connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
  try {
    let value: string | undefined;
    client.on('message', (_t, payload, packet) => {
      if (packet.retain) value = payload.toString();
    });
    await client.subscribeAsync(topic, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // retained messages follow SUBACK at once
    return value;
  } finally {
    await client.endAsync(true);
  }
}

export const waitOnline = (uplink: Uplink, timeoutMs = 5000) => waitFor(() => uplink.state === 'online', { timeoutMs, what: 'uplink online' });
/** Online and delivery proven (the drain sends from then on). */
export const waitVerified = (uplink: Uplink, timeoutMs = 5000) =>
  waitFor(() => uplink.state === 'online' && uplink.stats().delivery.state === 'verified', { timeoutMs, what: 'uplink online, delivery verified' });
