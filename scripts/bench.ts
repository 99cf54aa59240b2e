/**
 * `npm run bench -- NAME [options]`: runs one benchmark and prints its JSON figures.
 * Benchmarks measure speed; tests assert behaviour. Each NAME is a script beside
 * this one (compiled to dist/scripts/bench-NAME.js by `npm run build`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const BENCHES: Record<string, string> = {
  pipeline: 'sim readings → 7-stage pipeline → outbox → uplink → local Mosquitto: readings/s, latency to PUBACK, RSS, bytes/reading',
  control: 'reading → rules → arbiter → actuator write latency under load (incl. GPIO edge → rule → GPIO output); rule throughput',
  modbus: 'transactions per poll cycle vs the minimum; transactions/s over a pty; scheduler idle gap',
  outbox: 'outbox disk bytes per reading and insert throughput',
};

const [name, ...rest] = process.argv.slice(2);
if (!name || !BENCHES[name]) {
  console.error(`usage: npm run bench -- NAME [options]\n\n${Object.entries(BENCHES).map(([k, v]) => `  ${k.padEnd(9)} ${v}`).join('\n')}`);
  process.exit(name ? 2 : 0);
}
const script = path.join(__dirname, `bench-${name}.js`);
if (!fs.existsSync(script)) {
  console.error(`bench ${name}: ${script} not built; run npm run build`);
  process.exit(1);
}
const res = spawnSync(process.execPath, [script, ...rest], { stdio: 'inherit' });
process.exit(res.status ?? 1);
