/**
 * `npm run bench -- NAME [options]`: runs one benchmark and prints its JSON figures.
 * Benchmarks measure speed; tests assert behaviour. Each NAME is a script beside
 * this one (compiled to dist/scripts/bench-NAME.js by `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { serviceEnvironment } from './service-env';

const BENCHES: Record<string, string> = {
  daemon: 'the real `fieldgate run` process (unit settings), paced sim → 4-stage pipelines → Mosquitto → an independent subscriber: readings/s, CPU ms per 1 000 readings, RSS, latency; 10 to 10 000 sensors',
  pipeline: 'in-process: sim readings → 7-stage pipeline → outbox → uplink → local Mosquitto: readings/s, latency to PUBACK, RSS, bytes/reading',
  control: 'reading → rules → arbiter → actuator write latency under load (incl. GPIO edge → rule → GPIO output); rule throughput',
  modbus: 'transactions per poll cycle vs the minimum; transactions/s over a pty; scheduler idle gap',
  'modbus-bus': 'in-process, tight loop: the Modbus driver\'s bus, request, answer and decode on an instant fake transport: CPU µs per transaction (the JavaScript floor)',
  'modbus-steady': 'in-process: CPU of steady 1 Hz Modbus TCP polling (20 slaves × 20 registers), modbus-serial by itself vs fieldgate\'s driver on it',
  outbox: 'outbox disk bytes per reading and insert throughput',
  wakeups: 'CPU a wake-up costs: N no-op 1 s timers at N moments of the second vs in one millisecond, two processes side by side',
  commands: '20 000 hostile cloud commands into a real daemon: event-loop lag, RSS, exactly one result per real id',
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !BENCHES[name]) {
  console.error(`usage: npm run bench -- NAME [options]\n\n${Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(13)} ${v}`).join('\n')}`);
  process.exit(name ? 2 : 0);
}
const script = path.join(__dirname, `bench-${name}.js`);
if (!fs.existsSync(script)) {
  console.error(`bench ${name}: ${script} not built; run npm run build`);
  process.exit(1);
}
// Benchmarks run with the service's runtime settings (the Environment= lines of
// systemd/fieldgate.service: V8 heap limits, malloc arenas), so the figures are
// those of the installed daemon. `--node-defaults` runs with Node's defaults.
const nodeDefaults = rest.includes('--node-defaults');
const args = rest.filter((a) => a !== '--node-defaults');
const env = nodeDefaults ? process.env : { ...serviceEnvironment(path.join(__dirname, '../..')), ...process.env };
const res = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit', env });
process.exit(res.status ?? 1);
