import * as net from 'node:net';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/core/logger';
import { ControlServer, type ControlServerOptions } from '../../src/control/server';
import { FakeGatewayView } from './fake-view';
import { tempDir } from '../helpers/temp';

/** A ControlServer on a fresh socket backed by a FakeGatewayView, stopped after the test. */
export async function startFakeDaemon(
  t: TestContext,
  { view = new FakeGatewayView(), ...opts }: Partial<Omit<ControlServerOptions, 'socketPath' | 'log' | 'view'>> & { view?: FakeGatewayView } = {},
) {
  const dir = tempDir(t, 'fg-ctl-', 0o755);
  const socketPath = path.join(dir, 'control.sock');
  const server = new ControlServer({ socketPath, view, log: silentLogger, ...opts });
  await server.start();
  t.after(() => server.stop());
  return { view, server, socketPath, dir };
}

/** A raw connection: write bytes, read reply lines. */
export async function rawClient(socketPath: string) {
  const s = net.connect(socketPath);
  s.setEncoding('utf8');
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let closed = false;
  s.on('data', (c: string) => {
    buf += c;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  s.on('error', () => {}); // the server may reset the connection after an oversized line
  s.on('close', () => (closed = true));
  await new Promise<void>((r) => s.once('connect', () => r()));
  return { s, lines, isClosed: () => closed };
}
