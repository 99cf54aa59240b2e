/** The narrow views of one mqtt.js client that the drain and the delivery proof use. */
import type { MqttClient } from 'mqtt';
import { errorMessage, type Logger } from '../core/logger';
import type { ProbeLink } from './delivery-proof';
import type { Publish } from './drain';

/** Publish for the drain; MQTT 5 properties only on a v5 connection. */
export function publisherFor(client: MqttClient, v5: boolean): Publish {
  return (topic, payload, opts, done) => {
    const properties = v5 && opts.properties ? opts.properties : undefined;
    client.publish(topic, payload, { qos: opts.qos, retain: opts.retain, ...(properties ? { properties } : {}) }, (err) => done(err ?? undefined));
  };
}

export function probeLinkFor(client: MqttClient, log: Logger): ProbeLink {
  return {
    subscribe: (topic, done) => client.subscribe(topic, { qos: 1 }, (err, granted) => done(err ?? undefined, (granted ?? []).map((g) => g.qos))),
    unsubscribe: (topic, done) =>
      client.unsubscribe(topic, (err) => {
        if (err) log.debug('probe unsubscribe failed', { error: errorMessage(err) });
        done();
      }),
    publish: (topic, payload, done) => client.publish(topic, payload, { qos: 1, retain: false }, (err) => done(err ?? undefined)),
  };
}
