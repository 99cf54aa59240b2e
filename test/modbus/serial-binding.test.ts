import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BindingPortInterface } from '@serialport/bindings-interface';
import { loopPort, type UnixPort } from '../../drivers/modbus/serial-binding';

/**
 * loopPort's read and write on a real non-blocking fd: a FIFO opened O_NONBLOCK behaves as
 * the tty does for what loopPort relies on (EAGAIN when empty or full; read() = 0 once no
 * writer is left, as a hung-up tty returns 0). The poller is the narrow seam faked here:
 * bindings-cpp's Poller calls a `once` listener with null when the fd is ready, with a
 * `canceled` error when it is stopped (poller.js emitCanceled).
 */
function fifo(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-fifo-'));
  const p = path.join(dir, 'line');
  assert.equal(spawnSync('mkfifo', [p]).status, 0, 'mkfifo');
  const readFd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const writeFd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const open = new Set([readFd, writeFd]);
  const close = (fd: number) => open.delete(fd) && fs.closeSync(fd);
  t.after(() => {
    open.forEach((fd) => fs.closeSync(fd));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { readFd, writeFd, close };
}

/** A poller whose readiness the test announces. */
function fakePoller() {
  const waiting: { event: string; cb: (err: Error | null) => void }[] = [];
  return {
    waiting,
    poller: { once: (event: 'readable' | 'writable', cb: (err: Error | null) => void) => waiting.push({ event, cb }) },
    fire(event: string, err: Error | null = null) {
      const i = waiting.findIndex((w) => w.event === event);
      assert.ok(i >= 0, `nobody waits for ${event}`);
      waiting.splice(i, 1)[0].cb(err);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const inner = { drain: async () => undefined } as unknown as BindingPortInterface;

test('serial binding: a read waits for readable, reads on the loop, and on EAGAIN waits again', async (t) => {
  const { readFd, writeFd } = fifo(t);
  const p = fakePoller();
  const port = loopPort(inner, { fd: readFd, poller: p.poller } satisfies UnixPort);
  const buf = Buffer.alloc(16);
  const reading = port.read(buf, 2, 10);
  await tick();
  assert.deepEqual(p.waiting.map((w) => w.event), ['readable'], 'no read before the poller says readable');
  p.fire('readable'); // spurious: nothing there yet, read(2) fails with EAGAIN
  await tick();
  assert.deepEqual(p.waiting.map((w) => w.event), ['readable'], 'EAGAIN waits for readable again');
  fs.writeSync(writeFd, Buffer.from('abc'));
  p.fire('readable');
  const r = await reading;
  assert.equal(r.bytesRead, 3);
  assert.equal(buf.subarray(2, 5).toString(), 'abc');
});

test('serial binding: a read of 0 bytes (a hung-up line) fails as a disconnect instead of reading again', async (t) => {
  const { readFd, writeFd, close } = fifo(t);
  const p = fakePoller();
  const port = loopPort(inner, { fd: readFd, poller: p.poller });
  close(writeFd); // no writer left: read(2) returns 0
  const reading = port.read(Buffer.alloc(8), 0, 8);
  await tick();
  p.fire('readable');
  await assert.rejects(reading, (err: Error & { disconnect?: boolean }) => err.disconnect === true && /hung up/.test(err.message));
});

test('serial binding: closing the port (the poller stopped, fd null) ends a pending read as canceled', async (t) => {
  const { readFd } = fifo(t);
  const p = fakePoller();
  const unix: UnixPort = { fd: readFd, poller: p.poller };
  const port = loopPort(inner, unix);
  const first = port.read(Buffer.alloc(8), 0, 8);
  await tick();
  p.fire('readable', Object.assign(new Error('Canceled'), { canceled: true }));
  await assert.rejects(first, (err: Error & { canceled?: boolean }) => err.canceled === true);
  const second = port.read(Buffer.alloc(8), 0, 8);
  await tick();
  unix.fd = null; // closed while waiting; the wake-up that follows finds no fd
  p.fire('readable');
  await assert.rejects(second, (err: Error & { canceled?: boolean }) => err.canceled === true);
});

test('serial binding: a write that finds the line full (EAGAIN) waits for writable and writes the rest; drain waits for it', async (t) => {
  const { readFd, writeFd } = fifo(t);
  const p = fakePoller();
  let drained = false;
  const port = loopPort({ drain: async () => void (drained = true) } as unknown as BindingPortInterface, { fd: writeFd, poller: p.poller });
  // Fill the FIFO (its capacity, 64 KiB by default) so that the next write cannot go through.
  const chunk = Buffer.alloc(4096, 1);
  let filled = 0;
  for (;;) {
    try {
      filled += fs.writeSync(writeFd, chunk);
    } catch {
      break;
    }
  }
  const frame = Buffer.from([1, 3, 0, 0, 0, 20, 0x44, 0x05]);
  const writing = port.write(frame);
  const draining = port.drain();
  await tick();
  assert.deepEqual(p.waiting.map((w) => w.event), ['writable']);
  assert.equal(drained, false, 'drain waits for the write first');
  const sink = Buffer.alloc(filled);
  let got = 0;
  while (got < filled) got += fs.readSync(readFd, sink, got, filled - got, null);
  p.fire('writable');
  await writing;
  await draining;
  assert.equal(drained, true);
  const out = Buffer.alloc(16);
  assert.equal(fs.readSync(readFd, out, 0, 16, null), frame.length);
  assert.deepEqual(out.subarray(0, frame.length), frame);
});
