/**
 * Outbox disk cost and write speed. Inserts N readings (default 200 000) from 50 sensors
 * through Outbox.add with the default batch size, then prints JSON with bytes per reading
 * (the database file after close / rows), the footprint while open (database + WAL, what
 * maxMB bounds) and insert throughput.
 * Usage: npx tsx scripts/bench-outbox.ts [count] [normal|full]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { reading } from '../src/core/reading';
import { Outbox } from '../src/outbox/outbox';
import { outboxSchema } from '../src/outbox/schema';

const count = Number(process.argv[2] ?? 200_000);
const synchronous = process.argv[3] === 'full' ? 'full' : 'normal';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bench-outbox-'));
try {
  const ob = new Outbox({ path: path.join(dir, 'outbox.db'), config: outboxSchema.parse({ synchronous }), clock: systemClock, log: silentLogger });
  const t0 = process.hrtime.bigint();
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    // Realistic values: a temperature-like float with two decimals, one reading per sensor per second.
    ob.add(reading(`line${i % 50}.temp`, start + Math.floor(i / 50) * 1000, Math.round((20 + Math.sin(i / 100) * 5) * 100) / 100));
  }
  ob.flush();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const st = ob.stats();
  ob.close();
  const fileBytes = fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  process.stdout.write(
    JSON.stringify({
      readings: count,
      synchronous,
      bytesWhileOpen: st.bytes,
      filesOnDiskAfterClose: fileBytes,
      bytesPerReading: Number((fileBytes / count).toFixed(1)),
      insertsPerSecond: Math.round(count / seconds),
      seconds: Number(seconds.toFixed(2)),
      node: process.version,
      arch: process.arch,
    }) + '\n',
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
