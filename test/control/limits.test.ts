import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { controlRequest, controlStream } from '../../src/control/client';
import { listenWithMode } from '../../src/control/socket-file';
import type { StageTrace } from '../../src/daemon/view';
import { FakeGatewayView } from './fake-view';
import { rawClient, startFakeDaemon } from './helpers';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/wait';

test('idle clients are closed after idleTimeoutMs, so they cannot lock the CLI out', async (t) => {
  const clock = new VirtualClock(0);
  const { socketPath, server } = await startFakeDaemon(t, { maxClients: 2, idleTimeoutMs: 30_000, clock });
  const idle = [await rawClient(socketPath), await rawClient(socketPath)];
  t.after(() => idle.forEach((c) => c.s.destroy()));
  await waitFor(() => server.stats().clients === 2, { what: 'two idle clients registered' });
  await assert.rejects(controlRequest(socketPath, 'status'), /too many control clients \(max 2\)/);

  clock.advance(29_999);
  assert.equal(server.stats().clients, 2, 'not yet idle for 30 s');
  clock.advance(1);
  await waitFor(() => idle.every((c) => c.isClosed()), { what: 'idle clients closed' });
  assert.match(String(idle[0].lines[0]?.error), /^idle for 30000 ms; closing the connection$/);
  assert.equal(server.stats().idleClientsClosed, 2);
  const status = (await controlRequest(socketPath, 'status')) as { gateway: string };
  assert.equal(status.gateway, 'test-gw');
});

test('a request restarts the idle countdown', async (t) => {
  const clock = new VirtualClock(0);
  const { socketPath } = await startFakeDaemon(t, { idleTimeoutMs: 30_000, clock });
  const c = await rawClient(socketPath);
  t.after(() => c.s.destroy());
  clock.advance(20_000);
  c.s.write('{"id":1,"method":"buffer"}\n');
  await waitFor(() => c.lines.length === 1, { what: 'reply' });
  // Last request at t = 20 s (its reply re-arms at the same virtual instant): idle until 50 s.
  clock.advance(29_999);
  assert.equal(c.isClosed(), false);
  clock.advance(1);
  await waitFor(() => c.isClosed(), { what: 'closed at 50 s' });
});

test('a watching client is not idle: it is reading a stream', async (t) => {
  const clock = new VirtualClock(0);
  const { socketPath, view, server } = await startFakeDaemon(t, { idleTimeoutMs: 30_000, clock });
  const events: unknown[] = [];
  const stream = await controlStream(socketPath, 'watch', {}, (e) => events.push(e));
  t.after(() => stream.close());
  await waitFor(() => view.listeners.size === 1, { what: 'watch subscribed' });
  clock.advance(120_000);
  view.emit({ sensor: 'a', ts: 1, value: 1, quality: 'good', flags: 0 });
  await waitFor(() => events.length === 1, { what: 'event after 120 s' });
  assert.equal(server.stats().idleClientsClosed, 0);
});

/** A view whose fresh reads wait until the test releases them. */
class SlowReadView extends FakeGatewayView {
  readonly waiting: (() => void)[] = [];
  override async readFresh(sensor: string, timeoutMs: number): Promise<StageTrace> {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.readFresh(sensor, timeoutMs);
  }
}

test('one client gets at most maxPendingPerClient requests answered at a time', async (t) => {
  const view = new SlowReadView();
  const { socketPath, server } = await startFakeDaemon(t, { view, maxPendingPerClient: 2 });
  const c = await rawClient(socketPath);
  t.after(() => c.s.destroy());
  for (const id of [1, 2, 3]) c.s.write(`{"id":${id},"method":"read","params":{"sensor":"boiler.temp"}}\n`);
  await waitFor(() => c.lines.length === 1, { what: 'the third request refused' });
  assert.deepEqual(c.lines[0], { id: 3, ok: false, error: 'too many requests in flight on this connection (max 2); wait for the replies' });
  assert.equal(view.waiting.length, 2);
  assert.equal(server.stats().badRequests, 1);
  view.waiting.splice(0).forEach((release) => release());
  await waitFor(() => c.lines.length === 3, { what: 'both replies' });
  assert.deepEqual(c.lines.slice(1).map((l) => [l.id, l.ok]), [[1, true], [2, true]]);
});

test('listenWithMode creates the socket with the mode asked for, whatever the umask, and restores the umask', async (t) => {
  const dir = tempDir(t);
  const socketPath = path.join(dir, 's.sock');
  const server = net.createServer();
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const before = process.umask(0o022);
  t.after(() => process.umask(before));
  await listenWithMode(server, socketPath, 0o660);
  // bind(2) alone would give 0o777 & ~0o022 = 0o755.
  assert.equal(fs.statSync(socketPath).mode & 0o777, 0o660);
  assert.equal(process.umask(0o022), 0o022, 'umask restored');
});

test('stop() completes after a refused client went away (its socket is read to the end, not left paused)', async (t) => {
  const { socketPath, server } = await startFakeDaemon(t, { maxClients: 1 });
  const first = await rawClient(socketPath);
  t.after(() => first.s.destroy());
  await waitFor(() => server.stats().clients === 1, { what: 'first client registered' });
  await assert.rejects(controlRequest(socketPath, 'status'), /too many control clients \(max 1\)/);
  await server.stop();
  assert.equal(fs.existsSync(socketPath), false);
});
