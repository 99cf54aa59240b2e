import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlRequest } from '../../src/control/client';
import type { BufferStats } from '../../src/daemon/view';
import { freePort } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { counterConfig } from './sim-config';

test('broker down: the outbox stops at its row limit, evicts oldest telemetry, counts it, and the daemon keeps running', { timeout: 60_000 }, async (t) => {
  const nobody = `mqtt://127.0.0.1:${await freePort()}`; // nothing listens there
  const d = startDaemon({
    config: counterConfig({ broker: nobody, interval: '2ms', outbox: 'outbox:\n  maxRows: 500\n  flushInterval: 20ms\n  flushRows: 100' }),
  });
  t.after(() => d.kill());
  const buffer = () => controlRequest(d.socketPath, 'buffer') as Promise<BufferStats>;
  await waitFor(async () => ((await buffer().catch(() => undefined))?.evicted ?? 0) > 0, { timeoutMs: 20_000, what: 'evictions' });
  // Keep producing for a while: the depth must stay bounded while evictions grow.
  const first = await buffer();
  await new Promise((r) => setTimeout(r, 1500));
  const later = await buffer();
  assert.ok(later.evicted > first.evicted, `evictions keep being counted (${first.evicted} -> ${later.evicted})`);
  assert.ok(later.depth <= 500, `depth ${later.depth} stays within maxRows 500`);
  // Oldest first: what is left is recent (a 2 ms counter keeps at most ~1 s of 500 rows).
  assert.ok((later.oldestAgeMs ?? Infinity) < 5_000, `oldest kept reading is recent (${later.oldestAgeMs} ms)`);
  const status = (await controlRequest(d.socketPath, 'status')) as { drivers: { state: string }[]; outbox: BufferStats };
  assert.equal(status.drivers[0].state, 'running');
  assert.equal(d.proc.exitCode, null, 'daemon still running');
  // The eviction episode is logged once, not once per row.
  const evictionLogs = d.logs.filter((l) => typeof l.msg === 'string' && /evict/i.test(l.msg));
  assert.ok(evictionLogs.length >= 1 && evictionLogs.length < later.evicted / 10, `${evictionLogs.length} eviction log lines for ${later.evicted} rows`);
});
