/**
 * The "cloud" of the command acceptance tests: an outside MQTT 5 client on a
 * real Mosquitto that sends commands and records every result it receives.
 */
import type { TestContext } from 'node:test';
import { connect, type MqttClient } from 'mqtt';
import { controlRequest } from '../../src/control/client';
import { waitFor } from '../helpers/wait';

/** A command result as the cloud receives it (src/commands/result.ts). */
export interface ResultMsg {
  id: string;
  ok?: boolean;
  status: string;
  final: boolean;
  error?: string;
  applied?: unknown;
  owner?: string;
  duplicate?: boolean;
  ts: number;
}

/** A gateway `gw` with a sim driver and a cloud-controllable bool actuator `pump`. */
export function simPumpConfig(broker: string, uplinkExtra = '', pumpExtra = ''): string {
  return `gateway: { id: gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms }${uplinkExtra} }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
actuators:
  - { id: pump, driver: sim, target: { output: pump }, type: bool, cloud: true${pumpExtra} }
`;
}

export interface Cloud {
  client: MqttClient;
  /** Every result received, in order, with its topic. */
  got: { topic: string; body: ResultMsg }[];
  send(actuator: string, body: unknown, properties?: { responseTopic?: string }): Promise<unknown>;
  /** The final result for `id` (waits for it). */
  final(id: string, timeoutMs?: number): Promise<ResultMsg>;
}

/** Connect the cloud and subscribe to `filters` (default: every result topic of gateway gw). */
export async function startCloud(t: TestContext, url: string, filters: string[] = ['fieldgate/gw/cmd/+/result']): Promise<Cloud> {
  const client = connect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  t.after(() => client.end(true));
  const got: Cloud['got'] = [];
  client.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as ResultMsg }));
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    client,
    got,
    send: (actuator, body, properties) => client.publishAsync(`fieldgate/gw/cmd/${actuator}`, JSON.stringify(body), { qos: 1, properties }),
    final: (id, timeoutMs = 10_000) => waitFor(() => got.find((m) => m.body.id === id && m.body.final)?.body, { timeoutMs, what: `the final result of ${id}` }),
  };
}

/** The daemon's status over its control socket, or undefined while it does not answer. */
export function daemonStatus<T = { uplink: { state: string; commands: number; reconnects: number }; commands: Record<string, number>; actuators: { id: string; owner?: string; value?: unknown; wanted?: unknown }[] }>(
  socketPath: string,
): Promise<T | undefined> {
  return controlRequest(socketPath, 'status').catch(() => undefined) as Promise<T | undefined>;
}

export async function waitOnline(socketPath: string): Promise<void> {
  await waitFor(async () => (await daemonStatus(socketPath))?.uplink.state === 'online', { timeoutMs: 15_000, what: 'the daemon online' });
}
