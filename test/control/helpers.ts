import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/core/logger';
import { ControlServer } from '../../src/control/server';
import { FakeGatewayView } from './fake-view';
import { tempDir } from '../helpers/temp';

/** A ControlServer on a fresh socket backed by a FakeGatewayView, stopped after the test. */
export async function startFakeDaemon(t: TestContext, opts: { group?: string; maxClients?: number } = {}) {
  const dir = tempDir(t, 'fg-ctl-', 0o755);
  const view = new FakeGatewayView();
  const socketPath = path.join(dir, 'control.sock');
  const server = new ControlServer({ socketPath, view, log: silentLogger, ...opts });
  await server.start();
  t.after(() => server.stop());
  return { view, server, socketPath, dir };
}
