import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { memoryLogger, silentLogger } from '../../src/core/logger';
import { createNotifier, type NotifyTransportKind } from '../../src/daemon/sd-notify';
import { waitFor } from '../helpers/wait';
import { collectLines, notifySocket } from '../helpers/notify-socket';

const repoRoot = path.resolve(__dirname, '..', '..');

test('no NOTIFY_SOCKET: a no-op notifier', () => {
  const clock = new VirtualClock();
  const n = createNotifier({ env: {}, clock, log: silentLogger });
  assert.equal(n.enabled, false);
  n.ready();
  n.startWatchdog();
  assert.equal(clock.pending(), 0);
  n.stop();
});

for (const transport of ['unix-dgram', 'systemd-notify'] as NotifyTransportKind[]) {
  test(`${transport}: READY, STATUS, WATCHDOG every WATCHDOG_USEC/2, STOPPING; stop() clears the timer`, async (t) => {
    const { addr, messages } = await notifySocket(t);
    const clock = new VirtualClock();
    const env = { NOTIFY_SOCKET: addr, WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' };
    const n = createNotifier({ env, clock, log: silentLogger, pid: 4242, transport });
    assert.equal(n.transport, transport);
    assert.equal(n.watchdogIntervalMs, 15_000);
    n.ready('2 drivers,\nuplink online');
    await waitFor(() => messages().length === 1, { what: 'READY' });
    n.startWatchdog();
    await waitFor(() => messages().length === 2, { what: 'first WATCHDOG' });
    clock.advance(15_000);
    await waitFor(() => messages().length === 3, { what: 'second WATCHDOG' });
    clock.advance(14_999);
    n.status('draining outbox');
    await waitFor(() => messages().length === 4, { what: 'STATUS' });
    n.stopping();
    await waitFor(() => messages().length === 5, { what: 'STOPPING' });
    n.stop();
    assert.equal(clock.pending(), 0);
    assert.deepEqual(messages(), [
      'READY=1|STATUS=2 drivers, uplink online',
      'WATCHDOG=1',
      'WATCHDOG=1',
      'STATUS=draining outbox',
      'STOPPING=1',
    ]);
  });
}

test('an abstract "@name" NOTIFY_SOCKET goes through systemd-notify', async (t) => {
  const { addr, messages } = await notifySocket(t, `@fg-notify-test-${process.pid}`);
  const n = createNotifier({ env: { NOTIFY_SOCKET: addr }, clock: new VirtualClock(), log: silentLogger });
  assert.equal(n.transport, 'systemd-notify');
  n.ready();
  await waitFor(() => messages().length === 1, { what: 'READY' });
  assert.deepEqual(messages(), ['READY=1']);
  n.stop();
});

test('WATCHDOG_PID naming another process disables the watchdog', () => {
  const clock = new VirtualClock();
  const env = { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' };
  const n = createNotifier({ env, clock, log: silentLogger, pid: 4242, transport: 'unix-dgram' });
  assert.equal(n.watchdogIntervalMs, undefined);
  n.startWatchdog();
  assert.equal(clock.pending(), 0);
  n.stop();
});

test('a send failure is logged once, not per ping', async () => {
  const clock = new VirtualClock();
  const log = memoryLogger();
  const env = { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '2000000' };
  const n = createNotifier({ env, clock, log, transport: 'unix-dgram' });
  n.startWatchdog();
  await clock.advanceAsync(5000);
  n.stop();
  assert.equal(log.lines.filter((l) => l.msg === 'sd_notify failed').length, 1);
});

test('a real process: READY=1 after start, periodic WATCHDOG=1, and none once the event loop is blocked', async (t) => {
  const { addr, messages } = await notifySocket(t);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/systemd/notify-child.ts'], {
    cwd: repoRoot,
    env: { ...process.env, NOTIFY_SOCKET: addr, WATCHDOG_USEC: '200000' }, // ping every 100 ms
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const out = collectLines(child);
  await waitFor(() => out.includes('started unix-dgram'), { timeoutMs: 20_000, what: 'child started' });
  await waitFor(() => messages().filter((m) => m === 'WATCHDOG=1').length >= 5, { timeoutMs: 10_000, what: 'five watchdog pings' });
  assert.equal(messages()[0], 'READY=1|STATUS=child started');

  child.stdin?.write('hang\n');
  await waitFor(() => out.includes('hanging'), { what: 'child blocks its event loop' });
  const before = messages().length;
  // Absence over time can only be observed by waiting: 10 ping intervals.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(messages().length, before, 'no WATCHDOG=1 while the event loop is blocked');
  assert.equal(child.exitCode, null, 'the child is still alive, only hung');
});
