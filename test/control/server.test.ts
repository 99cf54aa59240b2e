import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { silentLogger } from '../../src/core/logger';
import { ControlServer } from '../../src/control/server';
import { controlRequest, controlStream, ControlReplyError, DaemonNotRunningError } from '../../src/control/client';
import { FakeGatewayView } from './fake-view';
import { rawClient, startFakeDaemon } from './helpers';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/wait';

test('status round trip returns the view snapshot', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const status = (await controlRequest(socketPath, 'status')) as { gateway: string; uptimeS: number };
  assert.equal(status.gateway, 'test-gw');
  assert.equal(status.uptimeS, 3725);
});

test('malformed JSON gets an error reply and the connection stays usable', async (t) => {
  const { socketPath, server } = await startFakeDaemon(t);
  const c = await rawClient(socketPath);
  t.after(() => c.s.destroy());
  c.s.write('{"id":1,"method":\n');
  c.s.write('{"id":2,"method":"buffer"}\n');
  await waitFor(() => c.lines.length === 2, { what: 'two replies' });
  assert.equal(c.lines[0].id, null);
  assert.equal(c.lines[0].ok, false);
  assert.match(String(c.lines[0].error), /^malformed JSON/);
  assert.deepEqual(c.lines[1], { id: 2, ok: true, result: new FakeGatewayView().buffer() });
  assert.equal(server.stats().badRequests, 1);
});

test('an oversized line gets an error reply and the connection is closed', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const c = await rawClient(socketPath);
  t.after(() => c.s.destroy());
  c.s.write('{"id":1,"method":"status","params":{"pad":"' + 'x'.repeat(70 * 1024));
  await waitFor(() => c.isClosed(), { what: 'server closes the connection' });
  assert.equal(c.lines.length, 1);
  assert.equal(c.lines[0].ok, false);
  assert.match(String(c.lines[0].error), /too long \(limit 65536 bytes\)/);
  // The daemon still answers other clients.
  assert.equal(((await controlRequest(socketPath, 'status')) as { gateway: string }).gateway, view.status().gateway);
});

test('unknown method, missing method and bad params are error replies with the request id', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const c = await rawClient(socketPath);
  t.after(() => c.s.destroy());
  c.s.write('{"id":7,"method":"reboot"}\n');
  c.s.write('{"id":8}\n');
  c.s.write('{"id":9,"method":"read","params":{"sensor":42}}\n');
  c.s.write('{"id":10,"method":"status","params":{"verbose":true}}\n');
  c.s.write('[1,2,3]\n');
  await waitFor(() => c.lines.length === 5, { what: 'five replies' });
  const byId = (id: unknown) => c.lines.find((l) => l.id === id);
  assert.match(String(byId(7)?.error), /^unknown method "reboot"; methods: status, sensors, rules, buffer, read, watch, actuate, alarms, ack, driver, deploy\.rollback$/);
  assert.match(String(byId(8)?.error), /^bad request: method:/);
  assert.match(String(byId(9)?.error), /^bad params for read: sensor:/);
  assert.match(String(byId(10)?.error), /^bad params for status:/);
  assert.equal(byId(null)?.ok, false);
  assert.ok(c.lines.every((l) => l.ok === false));
});

test('a view method that throws becomes an error reply, typed on the client', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  await assert.rejects(controlRequest(socketPath, 'read', { sensor: 'nope' }), (err: unknown) => {
    assert.ok(err instanceof ControlReplyError);
    assert.equal(err.message, 'unknown sensor "nope"');
    return true;
  });
  await assert.rejects(controlRequest(socketPath, 'driver', { driver: 'x', op: 'devices' }), /unknown driver "x"/);
});

test('watch streams only the requested sensors and unsubscribes when the client closes', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const events: unknown[] = [];
  const stream = await controlStream(socketPath, 'watch', { sensors: ['a'] }, (e) => events.push(e));
  assert.deepEqual(stream.result, { watching: ['a'] });
  assert.equal(view.listeners.size, 1);
  view.emit({ sensor: 'b', ts: 1, value: 1, quality: 'good', flags: 0 });
  view.emit({ sensor: 'a', ts: 2, value: 5, quality: 'good', flags: 0 });
  await waitFor(() => events.length === 1, { what: 'one event' });
  assert.deepEqual(events[0], { sensor: 'a', ts: 2, value: 5, quality: 'good', flags: 0 });
  stream.close();
  await stream.done;
  await waitFor(() => view.listeners.size === 0, { what: 'server unsubscribes' });
});

test('connections beyond maxClients are refused with a reason', async (t) => {
  const { socketPath, server } = await startFakeDaemon(t, { maxClients: 1 });
  const first = await rawClient(socketPath);
  t.after(() => first.s.destroy());
  await waitFor(() => server.stats().clients === 1, { what: 'first client registered' });
  const second = await rawClient(socketPath);
  await waitFor(() => second.isClosed(), { what: 'second client closed' });
  assert.match(String(second.lines[0]?.error), /too many control clients \(max 1\)/);
  assert.equal(server.stats().refusedClients, 1);
});

test('the socket is mode 0660, and stop() removes it; then the client says the daemon is not running', async (t) => {
  const { socketPath, server } = await startFakeDaemon(t);
  assert.equal(fs.statSync(socketPath).mode & 0o777, 0o660);
  await server.stop();
  assert.equal(fs.existsSync(socketPath), false);
  await assert.rejects(controlRequest(socketPath, 'status'), (err: unknown) => {
    assert.ok(err instanceof DaemonNotRunningError);
    assert.equal(
      err.message,
      `fieldgate daemon is not running (no control socket at ${socketPath}); start it with systemctl start fieldgate`,
    );
    return true;
  });
});

test('a stale socket file from a crashed daemon is removed on start', async (t) => {
  const dir = tempDir(t, 'fg-ctl-', 0o755);
  const socketPath = path.join(dir, 'control.sock');
  // python binds a unix socket and exits without unlinking it: what kill -9 leaves behind.
  const py = spawnSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', socketPath]);
  assert.equal(py.status, 0, String(py.stderr));
  assert.ok(fs.lstatSync(socketPath).isSocket());
  const server = new ControlServer({ socketPath, view: new FakeGatewayView(), log: silentLogger });
  await server.start();
  t.after(() => server.stop());
  assert.equal(((await controlRequest(socketPath, 'buffer')) as { depth: number }).depth, 120);
});

test('start refuses when another daemon answers on the socket, and leaves it alone', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const second = new ControlServer({ socketPath, view: new FakeGatewayView(), log: silentLogger });
  await assert.rejects(second.start(), { message: `another fieldgate daemon is running (socket ${socketPath})` });
  assert.equal(((await controlRequest(socketPath, 'buffer')) as { depth: number }).depth, 120);
});

test('start refuses to remove a path that is not a socket', async (t) => {
  const dir = tempDir(t, 'fg-ctl-', 0o755);
  const socketPath = path.join(dir, 'control.sock');
  fs.writeFileSync(socketPath, 'precious');
  const server = new ControlServer({ socketPath, view: new FakeGatewayView(), log: silentLogger });
  await assert.rejects(server.start(), /exists and is not a socket/);
  assert.equal(fs.readFileSync(socketPath, 'utf8'), 'precious');
});

test('an unknown socket group fails start with a clear error', async (t) => {
  const dir = tempDir(t, 'fg-ctl-', 0o755);
  const socketPath = path.join(dir, 'control.sock');
  const server = new ControlServer({ socketPath, group: 'no-such-group-xyz', view: new FakeGatewayView(), log: silentLogger });
  await assert.rejects(server.start(), /control socket group "no-such-group-xyz" does not exist/);
  assert.equal(fs.existsSync(socketPath), false);
});

/** Connects as user nobody (group nogroup, no supplementary groups); returns the outcome. */
function connectAsNobody(socketPath: string): string {
  const script = `const s=require('net').connect(process.argv[1]);s.on('connect',()=>{console.log('connected');s.destroy()});s.on('error',e=>console.log(e.code))`;
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script, socketPath], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const root = process.getuid?.() === 0;

test('a client without permission is refused by the socket mode', { skip: root ? false : 'needs root to switch users' }, async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  assert.equal(fs.statSync(socketPath).gid, 0);
  assert.equal(connectAsNobody(socketPath), 'EACCES');
});

test('a member of the configured group may connect', { skip: root ? false : 'needs root to switch users' }, async (t) => {
  const { socketPath } = await startFakeDaemon(t, { group: 'nogroup' });
  assert.equal(fs.statSync(socketPath).gid, 65534);
  assert.equal(connectAsNobody(socketPath), 'connected');
});
