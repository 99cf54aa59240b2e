import * as fs from 'node:fs';
import { SerialPort } from 'serialport';
// Types only: the interface serialport's own declarations are written against.
import type { BindingInterface, BindingPortInterface } from '@serialport/bindings-interface';

/** What the Linux (and macOS) port binding of @serialport/bindings-cpp has beyond the interface. */
export interface UnixPort {
  fd: number | null;
  poller: { once(event: 'readable' | 'writable', cb: (err: Error | null) => void): unknown };
}

const isUnixPort = (p: unknown): p is UnixPort =>
  typeof p === 'object' && p !== null && 'fd' in p && typeof (p as UnixPort).fd === 'number' && typeof (p as UnixPort).poller?.once === 'function';

const retryable = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR';
};

/** Errors after which the device is gone (unplugged adapter, closed fd), as bindings-cpp marks them. */
function markDisconnect(err: unknown): unknown {
  const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
  if (e.code === 'EBADF' || e.code === 'ENXIO' || e.code === 'UNKNOWN' || e.errno === -1) e.disconnect = true;
  return err;
}

const canceled = () => Object.assign(new Error('Port is not open'), { canceled: true });

/**
 * The port binding serialport opens for us, with read and write done on the event loop.
 *
 * bindings-cpp opens the tty O_NONBLOCK, then reads and writes it with `fs.read` and
 * `fs.write`, which run on libuv's thread pool: every Modbus RTU request and every chunk
 * of an answer is a round trip to a pool thread and back (two more thread wake-ups, and
 * the read that finds the line empty is one more), and it waits behind whatever else holds
 * the pool's four threads. A DNS look-up of an unreachable broker's host name takes one for
 * seconds; four of them and the serial line stops. On the non-blocking fd a `read(2)` or
 * `write(2)` returns at once (the bytes, or EAGAIN), so here it is made on the loop, when
 * the binding's own poller (uv_poll on the fd) says the line is readable or writable: the
 * protocol of bindings-cpp's unixRead/unixWrite, without the pool. Cancellation on close
 * is the poller's: stopping it fails a pending wait with `canceled`. Everything else
 * (open, close, flush, drain, set, get) is the original binding's.
 */
export function loopPort(inner: BindingPortInterface, unix: UnixPort): BindingPortInterface {
  let writing: Promise<void> | undefined;
  const wait = (event: 'readable' | 'writable') =>
    new Promise<void>((resolve, reject) => unix.poller.once(event, (err) => (err ? reject(err) : resolve())));
  // Wait first, then read: the stream asks for the next chunk as soon as it has one, and
  // a read of the empty line would fail with EAGAIN, an exception built every time.
  // The poller is level-triggered: bytes already waiting make it fire at once.
  const read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      await wait('readable');
      if (unix.fd === null) throw canceled();
      let bytesRead: number;
      try {
        bytesRead = fs.readSync(unix.fd, buffer, offset, length, null);
      } catch (err) {
        if (retryable(err)) continue;
        throw markDisconnect(err);
      }
      if (bytesRead > 0) return { buffer, bytesRead };
      // A raw, non-blocking tty with nothing to read fails with EAGAIN; 0 means the line was
      // hung up (the kernel's n_tty_read: a USB adapter pulled out). The poller keeps saying
      // readable then, so reading again would spin: report the line gone instead.
      throw Object.assign(new Error('serial line hung up (read returned 0: adapter unplugged?)'), { disconnect: true });
    }
  };
  const writeAll = async (buffer: Buffer) => {
    for (let offset = 0; offset < buffer.length; ) {
      if (unix.fd === null) throw canceled();
      try {
        offset += fs.writeSync(unix.fd, buffer, offset, buffer.length - offset);
        continue;
      } catch (err) {
        if (!retryable(err)) throw markDisconnect(err);
      }
      await wait('writable');
    }
  };
  return {
    get openOptions() {
      return inner.openOptions;
    },
    get isOpen() {
      return inner.isOpen;
    },
    read,
    write: (buffer: Buffer) => {
      const op = writeAll(buffer).finally(() => {
        if (writing === op) writing = undefined;
      });
      writing = op;
      return op;
    },
    // bindings-cpp's drain waits for its own write before tcdrain; ours bypass it.
    drain: async () => {
      await writing?.catch(() => undefined);
      return inner.drain();
    },
    close: () => inner.close(),
    flush: () => inner.flush(),
    update: (options) => inner.update(options),
    set: (options) => inner.set(options),
    get: () => inner.get(),
    getBaudRate: () => inner.getBaudRate(),
  };
}

/**
 * serialport's auto-detected binding, with reads and writes on the event loop where the
 * port is a unix fd with a poller (Linux, macOS); elsewhere the binding as it is.
 */
export const loopBinding: BindingInterface = {
  list: () => SerialPort.binding.list(),
  open: async (options) => {
    const detected = SerialPort.binding as BindingInterface; // the union of the three platforms' bindings, as the interface they share
    const inner = await detected.open(options);
    return isUnixPort(inner) ? loopPort(inner, inner) : inner;
  },
};
