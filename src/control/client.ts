/**
 * The CLI side of the control socket: one request and its reply, or a stream.
 * Connection failures become typed errors the CLI turns into clear messages and
 * exit codes (DaemonNotRunningError → EXIT.NO_DAEMON).
 */
import * as net from 'node:net';
import { errorMessage } from '../core/logger';
import { encodeLine, isEvent, LineSplitter, type ControlMessage, type ControlMethod } from './protocol';

/** Generous: a reply line may carry a whole status snapshot or device list. */
const MAX_REPLY_LINE_BYTES = 16 * 1024 * 1024;

export class DaemonNotRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`fieldgate daemon is not running (no control socket at ${socketPath}); start it with systemctl start fieldgate`);
  }
}

export class ControlPermissionError extends Error {
  constructor(readonly socketPath: string) {
    super(
      `permission denied on control socket ${socketPath}; run as root or as a member of the socket's group ` +
        `(control.group in the gateway config, e.g. sudo usermod -aG fieldgate $USER)`,
    );
  }
}

/** The daemon answered, with an error (unknown sensor, rejected params, ...). */
export class ControlReplyError extends Error {}

export class ControlTimeoutError extends Error {}

function connectionError(err: NodeJS.ErrnoException, socketPath: string): Error {
  if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return new DaemonNotRunningError(socketPath);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new ControlPermissionError(socketPath);
  return new Error(`control socket ${socketPath}: ${errorMessage(err)}`);
}

interface Connection {
  socket: net.Socket;
  /** Resolves with each message; rejects on a connection error. */
  onMessage(fn: (m: ControlMessage) => void): void;
  closed: Promise<void>;
}

function connect(socketPath: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.setEncoding('utf8');
    const listeners: ((m: ControlMessage) => void)[] = [];
    const lines = new LineSplitter(MAX_REPLY_LINE_BYTES);
    let closeError: Error | undefined;
    const closed = new Promise<void>((res) => socket.once('close', () => res()));
    socket.on('data', (chunk: string) => {
      const got = lines.push(chunk);
      if (got === 'overflow') {
        closeError = new Error('control reply too large');
        socket.destroy();
        return;
      }
      for (const line of got) {
        let msg: ControlMessage;
        try {
          msg = JSON.parse(line) as ControlMessage;
        } catch (err) {
          closeError = new Error(`malformed reply from daemon: ${errorMessage(err)}`);
          socket.destroy();
          return;
        }
        for (const l of listeners) l(msg);
      }
    });
    socket.on('error', (err) => {
      closeError = connectionError(err, socketPath);
      reject(closeError);
    });
    socket.once('connect', () => {
      resolve({
        socket,
        onMessage: (fn) => listeners.push(fn),
        closed: closed.then(() => {
          if (closeError) throw closeError;
        }),
      });
    });
  });
}

/** Sends one request and resolves with its result; rejects with a typed error. */
export async function controlRequest(
  socketPath: string,
  method: ControlMethod,
  params: Record<string, unknown> = {},
  timeoutMs = 5000,
): Promise<unknown> {
  const conn = await connect(socketPath);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ControlTimeoutError(`no reply from the daemon to "${method}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      conn.onMessage((m) => {
        if (isEvent(m)) return;
        // id null: the daemon speaks about the connection (too many clients, idle), not a request.
        if (m.id === null && !m.ok) return settle(() => reject(new ControlReplyError(m.error)));
        if (m.id !== 1) return;
        if (m.ok) settle(() => resolve(m.result));
        else settle(() => reject(new ControlReplyError(m.error)));
      });
      conn.closed.then(
        () => settle(() => reject(new Error('the daemon closed the control connection without replying'))),
        (err: unknown) => settle(() => reject(err)),
      );
      conn.socket.write(encodeLine({ id: 1, method, params }));
    });
  } finally {
    conn.socket.destroy();
  }
}

export interface ControlStream {
  /** The result of the stream's opening reply (e.g. which sensors are watched). */
  result: unknown;
  /** Settles when the connection ends: resolves after close(), rejects when the daemon went away. */
  done: Promise<void>;
  close(): void;
}

/** Opens a streaming method; onEvent gets every event until close(). */
export async function controlStream(
  socketPath: string,
  method: ControlMethod,
  params: Record<string, unknown>,
  onEvent: (event: unknown) => void,
  timeoutMs = 5000,
): Promise<ControlStream> {
  const conn = await connect(socketPath);
  let closedByClient = false;
  const close = () => {
    closedByClient = true;
    conn.socket.destroy();
  };
  const done = conn.closed.then(() => {
    if (!closedByClient) throw new Error('the daemon closed the control connection');
  });
  const result = await new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ControlTimeoutError(`no reply from the daemon to "${method}" within ${timeoutMs} ms`)), timeoutMs);
    conn.onMessage((m) => {
      if (isEvent(m)) {
        onEvent(m.event);
        return;
      }
      clearTimeout(timer);
      if (m.ok) resolve(m.result);
      else reject(new ControlReplyError(m.error));
    });
    done.catch((err: unknown) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.socket.write(encodeLine({ id: 1, method, params }));
  }).catch((err: unknown) => {
    close();
    throw err;
  });
  return { result, done, close };
}
