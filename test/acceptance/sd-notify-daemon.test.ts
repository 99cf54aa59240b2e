import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { notifySocket } from '../helpers/notify-socket';
import { waitFor } from '../helpers/wait';
import { counterConfig } from './sim-config';

test('under systemd (NOTIFY_SOCKET): READY=1 after start-up, then WATCHDOG=1 periodically, STOPPING=1 on SIGTERM', { timeout: 30_000 }, async (t) => {
  const { addr, messages } = await notifySocket(t);
  const d = startDaemon({
    config: counterConfig({ broker: `mqtt://127.0.0.1:${await freePort()}`, interval: '100ms' }),
    env: { NOTIFY_SOCKET: addr, WATCHDOG_USEC: '400000' },
  });
  t.after(() => d.kill());
  await waitFor(() => messages().some((m) => m.startsWith('READY=1')), { timeoutMs: 10_000, what: 'READY=1' });
  // READY comes only after the daemon logged that drivers are started.
  assert.ok(d.logs.some((l) => l.msg === 'fieldgate running'));
  // WATCHDOG_USEC 400 ms → a ping every 200 ms: at least 3 within ~1.5 s.
  await waitFor(() => messages().filter((m) => m === 'WATCHDOG=1').length >= 3, { timeoutMs: 5_000, what: 'three watchdog pings' });
  // A stopped (hung) process sends no more pings.
  d.proc.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, 300));
  const before = messages().filter((m) => m === 'WATCHDOG=1').length;
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(messages().filter((m) => m === 'WATCHDOG=1').length, before, 'no pings while the process is stopped');
  d.proc.kill('SIGCONT');
  await d.stop('SIGTERM');
  assert.ok(messages().some((m) => m.startsWith('STOPPING=1')));
});
