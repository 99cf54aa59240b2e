/** A test-side MQTT subscriber that records every message it receives. */
import { connect, type MqttClient } from 'mqtt';
import { decodeBatch, type WireReading } from '../../src/uplink/batch-format';
import { waitFor } from './wait';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  on(topicSuffix: string): Received[];
  /** Every reading of every data message so far, in arrival order. */
  readings(): WireReading[];
  waitFor(topicSuffix: string, pred?: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  close(): Promise<void>;
}

export async function record(url: string, filter: string, base = ''): Promise<Recorder> {
  const client = connect(url, { reconnectPeriod: 200, clean: true, connectTimeout: 2000 });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload, retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(filter, { qos: 1 });
  const on = (suffix: string) => messages.filter((m) => m.topic === base + suffix);
  return {
    client,
    messages,
    on,
    readings: () => on('data').flatMap((m) => decodeBatch(m.payload).r),
    waitFor: (suffix, pred = () => true, timeoutMs = 10_000) =>
      waitFor(() => on(suffix).find(pred), { timeoutMs, what: `a message on ${base + suffix}` }),
    close: () => client.endAsync(true),
  };
}
