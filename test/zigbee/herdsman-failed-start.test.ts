import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { HerdsmanController } from '../../drivers/zigbee/herdsman-controller';
import { memoryLogger } from '../../src/core/logger';

// The adapter never answers: a network coordinator (tcp://host:port, as zigbee-herdsman
// supports for Z-Stack) that accepts the connection and stays silent. zigbee-herdsman
// 10.9.5's Z-Stack adapter connects, tries the bootloader skip (~1.5 s), then pings 3 × 6 s
// and rejects "Failed to connect to the adapter" — about 20 s of real time, because the
// timeouts are the library's own. A serial tty goes the same way, and stays locked.
test('real zigbee-herdsman, adapter that never answers: a failed start() closes the connection to the adapter', { timeout: 60_000 }, async (t) => {
  const sockets: net.Socket[] = [];
  const closed: Promise<void>[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    closed.push(new Promise((resolve) => s.once('close', () => resolve())));
    s.on('error', () => undefined); // a reset from the client is a close here
    s.resume(); // read (and drop) the pings, so the client's FIN is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const { port } = server.address() as net.AddressInfo;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-zb-'));
  t.after(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  const controller = new HerdsmanController({
    adapter: { type: 'zstack', path: `tcp://127.0.0.1:${port}` },
    channel: 11,
    panId: 0x1a62,
    networkKey: Array.from({ length: 16 }, (_, i) => i),
    stateDir,
    log: memoryLogger('warn'),
  });
  t.after(() => controller.stop());

  await assert.rejects(controller.start(), /failed to start: .*Failed to connect to the adapter/);
  assert.equal(sockets.length, 1, 'herdsman connected once');
  // Before the fix the abandoned herdsman Controller kept the socket (or the tty and its lock) open for ever.
  // (The guard only turns "hangs until the test times out" into a clear failure.)
  let guard: NodeJS.Timeout | undefined;
  const stillOpen = new Promise<never>((_, reject) => {
    guard = setTimeout(() => reject(new Error('the adapter connection is still open 10 s after start() rejected')), 10_000);
  });
  t.after(() => clearTimeout(guard));
  await Promise.race([closed[0], stillOpen]);
});
