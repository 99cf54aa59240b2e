/**
 * A TCP proxy in front of a broker, to fault the wire: hold broker→client bytes
 * (PUBACKs wait), cut every connection abruptly, or answer an MQTT 5 CONNECT the way
 * an MQTT 3.1.1-only broker does (CONNACK return code 0x01) while passing 3.1.1 through.
 * `onMqtt5: 'close'` is RabbitMQ 3.x's MQTT plugin (Debian bookworm ships 3.10.8): its frame
 * parser (deps/rabbitmq_mqtt/src/rabbit_mqtt_frame.erl) reads the client id right after the
 * keepalive, where MQTT 5 puts its properties; the match fails, or protocol_name_approved(5,
 * "MQTT") is false, the connection process stops and the socket is closed with no CONNACK.
 * `'reset'` is the same with a TCP RST (a broker or load balancer that aborts instead).
 */
import net from 'node:net';

export interface ProxyOptions {
  targetPort: number;
  refuseMqtt5?: boolean;
  /** Hang up on an MQTT 5 CONNECT without any CONNACK: FIN ('close') or RST ('reset'). */
  onMqtt5?: 'close' | 'reset';
}

export interface TcpProxy {
  port: number;
  url: string;
  /** Stop forwarding broker → client (the client's PUBACKs are held back). */
  holdDownstream(): void;
  releaseDownstream(): void;
  /** Destroy every proxied connection without an MQTT DISCONNECT (broker sends the will). */
  cutAll(): void;
  /** Protocol levels seen in CONNECT packets, in order. */
  connectLevels: number[];
  close(): Promise<void>;
}

/** Protocol level byte of an MQTT CONNECT packet at the start of `buf`, if complete enough. */
function connectLevel(buf: Buffer): number | undefined {
  if (buf.length < 2 || buf[0] >> 4 !== 1) return undefined;
  let i = 1;
  while (i < buf.length && buf[i] & 0x80) i++; // remaining length varint
  i++;
  const nameLen = buf.readUInt16BE(i);
  return buf[i + 2 + nameLen];
}

export async function startProxy(opts: ProxyOptions): Promise<TcpProxy> {
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let held = false;
  const connectLevels: number[] = [];
  const server = net.createServer((client) => {
    client.once('data', (first: Buffer) => {
      const level = connectLevel(first);
      if (level !== undefined) connectLevels.push(level);
      if (opts.refuseMqtt5 && level === 5) {
        client.end(Buffer.from([0x20, 0x02, 0x00, 0x01])); // CONNACK, 3.1.1 "unacceptable protocol version"
        return;
      }
      if (opts.onMqtt5 && level === 5) {
        if (opts.onMqtt5 === 'close') client.end();
        else client.resetAndDestroy();
        return;
      }
      const upstream = net.connect({ port: opts.targetPort, host: '127.0.0.1' });
      const pair = { client, upstream };
      pairs.add(pair);
      upstream.write(first);
      client.pipe(upstream);
      upstream.pipe(client);
      if (held) upstream.pause();
      const drop = () => {
        pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', drop).on('error', drop);
      upstream.on('close', drop).on('error', drop);
    });
    client.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    connectLevels,
    holdDownstream: () => {
      held = true;
      for (const p of pairs) p.upstream.pause();
    },
    releaseDownstream: () => {
      held = false;
      for (const p of pairs) p.upstream.resume();
    },
    cutAll: () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
