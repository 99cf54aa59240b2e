/**
 * `npm run demo`: the whole gateway on simulated devices, no hardware and no
 * broker installed. Starts an embedded MQTT broker (aedes) on 127.0.0.1:1883 (or
 * a free port when 1883 is taken), runs the daemon on config/demo.yaml with the
 * example rules in rules/, and prints what arrives at the broker: readings, events,
 * health. Ctrl-C stops everything cleanly.
 *
 * Options: --port N, --seconds N (stop after N s), --verbose (daemon JSON logs).
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'mqtt';
import { systemClock } from '../src/core/clock';
import { createLogger } from '../src/core/logger';
import { loadConfigFile } from '../src/config/load';
import { formatProblem } from '../src/config/yaml-source';
import { ControlServer } from '../src/control/server';
import { Daemon } from '../src/daemon/daemon';
import { decodeBatch } from '../src/uplink/batch-format';

/** MQTT protocol level of the embedded aedes broker: 4 = MQTT 3.1.1. */
const EMBEDDED_BROKER_PROTOCOL = 4;

const ROOT = path.resolve(__dirname, path.basename(path.dirname(__dirname)) === 'dist' ? '../..' : '..');

async function listenBroker(port: number): Promise<{ server: net.Server; port: number; close(): Promise<void> }> {
  // aedes is an ES module; a dynamic import keeps this CommonJS script loadable.
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server = net.createServer((socket) => aedes.handle(socket));
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE' || port === 0) return reject(err);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
    });
    server.listen(port, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  return {
    server,
    port: bound,
    close: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '1883' }, seconds: { type: 'string' }, verbose: { type: 'boolean', default: false } },
  });
  const configFile = path.join(ROOT, 'config/demo.yaml');
  const res = loadConfigFile(configFile);
  if (!res.ok) {
    for (const p of res.problems) process.stderr.write(formatProblem(p) + '\n');
    return 1;
  }
  const broker = await listenBroker(Number(values.port));
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const loaded = res.value;
  if (loaded.config.uplink) {
    loaded.config.uplink.brokers = [url];
    // aedes, the embedded broker, speaks MQTT 3.1.1 (and 3.1), not 5: ask for 3.1.1 at
    // once instead of being refused and falling back with a warning.
    loaded.config.uplink.protocolVersion = EMBEDDED_BROKER_PROTOCOL;
  }
  const stateDir = process.env.FIELDGATE_STATE ?? path.join(ROOT, 'state/demo');
  console.log(`fieldgate demo: embedded broker (aedes, MQTT 3.1.1) on ${url}; gateway "${loaded.config.gateway.id}"; state in ${stateDir}`);
  const log = createLogger({ level: values.verbose ? 'info' : 'warn' }, { gw: loaded.config.gateway.id });
  const daemon = new Daemon({ loaded, stateDir, rulesDir: path.join(ROOT, 'rules'), clock: systemClock, log });
  const socketPath = path.join(stateDir, 'control.sock');
  const control = new ControlServer({ socketPath, view: daemon, log });
  await daemon.start();
  await control.start();

  const base = `fieldgate/${loaded.config.gateway.id}/`;
  const latest = new Map<string, string>();
  let batches = 0;
  let readings = 0;
  const sub = connect(url, { reconnectPeriod: 500 });
  sub.on('connect', () => void sub.subscribeAsync(`${base}#`, { qos: 1 }));
  sub.on('message', (topic, payload) => {
    const what = topic.slice(base.length);
    if (what === 'data') {
      const batch = decodeBatch(payload);
      batches++;
      readings += batch.r.length;
      for (const [sensor, , value, q] of batch.r) latest.set(sensor, `${value}${q === 0 ? '' : q === 1 ? ' (uncertain)' : ' (bad)'}`);
    } else if (what === 'status') console.log(`[status] ${payload.toString()}`);
    else if (what === 'events' || what.startsWith('cmd/')) console.log(`[${what}] ${payload.toString()}`);
    else if (what === 'health') {
      const h = JSON.parse(payload.toString()) as { uptimeS: number; outbox: { depth: number }; healthy: boolean };
      console.log(`[health] uptime ${h.uptimeS}s, outbox depth ${h.outbox.depth}, healthy ${h.healthy}`);
    }
  });
  console.log(`Try in another terminal: node bin/fieldgate.js sensors --socket ${socketPath}`);
  const show = setInterval(() => {
    const rows = [...latest.entries()].map(([s, v]) => `${s}=${v}`).join('  ');
    console.log(`[data] ${readings} readings in ${batches} messages so far | ${rows}`);
  }, 2000);

  const stop = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
    if (values.seconds) setTimeout(resolve, Number(values.seconds) * 1000);
  });
  await stop;
  clearInterval(show);
  await control.stop();
  await daemon.stop();
  await sub.endAsync(true);
  await broker.close();
  console.log(`fieldgate demo stopped: ${readings} readings received through the broker.`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
