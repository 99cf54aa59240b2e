import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/core/logger';
import { ControlServer } from '../../src/control/server';
import { FakeGatewayView } from './fake-view';

/** Polls cond until it is true or the deadline passes. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A temp directory removed after the test; mode 0755 so other users can reach a socket in it. */
export function tempDir(t: TestContext, prefix = 'fg-ctl-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A ControlServer on a fresh socket backed by a FakeGatewayView, stopped after the test. */
export async function startFakeDaemon(t: TestContext, opts: { group?: string; maxClients?: number } = {}) {
  const dir = tempDir(t);
  const view = new FakeGatewayView();
  const socketPath = path.join(dir, 'control.sock');
  const server = new ControlServer({ socketPath, view, log: silentLogger, ...opts });
  await server.start();
  t.after(() => server.stop());
  return { view, server, socketPath, dir };
}
