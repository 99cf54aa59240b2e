/**
 * sd_notify(3) for a Type=notify service: READY=1 once drivers and uplink are up,
 * STATUS=..., STOPPING=1 on shutdown, and WATCHDOG=1 every WATCHDOG_USEC/2 from an
 * event-loop timer, so a blocked or hung event loop stops the pings and systemd
 * restarts the service. A no-op when NOTIFY_SOCKET is unset (not under systemd).
 *
 * Transport: Node's dgram module cannot send on AF_UNIX datagram sockets.
 *  - `unix-dgram` (optional npm dependency, a small native addon) sends from this
 *    very process, so the unit can keep NotifyAccess=main. Used for path sockets.
 *  - Otherwise (addon not built, or an abstract "@name" socket, which the addon
 *    cannot address) we spawn `systemd-notify VAR=...`; the message then comes from
 *    a child process, which systemd accepts only with NotifyAccess=all. The shipped
 *    unit sets NotifyAccess=all so both paths work (see docs/operations.md).
 */
import { spawn } from 'node:child_process';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';

export type NotifyTransportKind = 'unix-dgram' | 'systemd-notify';

export interface NotifierOptions {
  env: NodeJS.ProcessEnv;
  clock: Clock;
  log: Logger;
  /** This process's pid, compared with WATCHDOG_PID (default process.pid). */
  pid?: number;
  /** Force a transport (tests); default picks unix-dgram when it can. */
  transport?: NotifyTransportKind;
}

export interface Notifier {
  /** False when NOTIFY_SOCKET is unset: every method is then a no-op. */
  readonly enabled: boolean;
  readonly transport: NotifyTransportKind | undefined;
  /** Watchdog ping interval in ms (WATCHDOG_USEC/2), undefined when systemd wants none. */
  readonly watchdogIntervalMs: number | undefined;
  ready(status?: string): void;
  status(text: string): void;
  stopping(): void;
  /** Starts WATCHDOG=1 pings (sends one at once). No-op without WATCHDOG_USEC or for another WATCHDOG_PID. */
  startWatchdog(): void;
  /** Stops the pings and releases the socket. */
  stop(): void;
}

interface Transport {
  send(message: string): Promise<void>;
  close(): void;
}

/** The part of unix-dgram's socket we use (the package ships no types). */
interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, cb: (err?: Error) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  close(): void;
}

function unixDgramTransport(socketPath: string): Transport | undefined {
  let mod: { createSocket(type: 'unix_dgram'): UnixDgramSocket };
  try {
    // Optional native dependency: absent when it failed to build on this box.
    mod = require('unix-dgram') as typeof mod; // eslint-disable-line @typescript-eslint/no-require-imports
  } catch {
    return undefined;
  }
  const sock = mod.createSocket('unix_dgram');
  sock.on('error', () => {}); // errors are reported through send()'s callback
  return {
    send: (message) =>
      new Promise((resolve, reject) => {
        const buf = Buffer.from(message);
        sock.send(buf, 0, buf.length, socketPath, (err) => (err ? reject(err) : resolve()));
      }),
    close: () => sock.close(),
  };
}

function systemdNotifyTransport(notifySocket: string): Transport {
  return {
    send: (message) =>
      new Promise((resolve, reject) => {
        const child = spawn('systemd-notify', message.split('\n'), {
          env: { ...process.env, NOTIFY_SOCKET: notifySocket },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`systemd-notify exited ${code}: ${stderr.trim()}`)),
        );
      }),
    close: () => {},
  };
}

const disabled: Notifier = {
  enabled: false,
  transport: undefined,
  watchdogIntervalMs: undefined,
  ready: () => {},
  status: () => {},
  stopping: () => {},
  startWatchdog: () => {},
  stop: () => {},
};

export function createNotifier(opts: NotifierOptions): Notifier {
  const socket = opts.env.NOTIFY_SOCKET;
  if (!socket) return disabled;
  const log = opts.log.child({ component: 'sd-notify' });
  const abstract = socket.startsWith('@');
  let kind: NotifyTransportKind = opts.transport ?? (abstract ? 'systemd-notify' : 'unix-dgram');
  let transport = kind === 'unix-dgram' ? unixDgramTransport(socket) : undefined;
  if (!transport) {
    if (kind === 'unix-dgram') log.info('unix-dgram not available; using systemd-notify (needs NotifyAccess=all)');
    kind = 'systemd-notify';
    transport = systemdNotifyTransport(socket);
  }
  const t = transport;

  const usec = Number(opts.env.WATCHDOG_USEC);
  const pidOk = opts.env.WATCHDOG_PID === undefined || Number(opts.env.WATCHDOG_PID) === (opts.pid ?? process.pid);
  const watchdogIntervalMs = Number.isFinite(usec) && usec > 0 && pidOk ? Math.max(1, Math.floor(usec / 2000)) : undefined;

  let failing = false;
  let failures = 0;
  let timer: TimerHandle | undefined;
  let stopped = false;

  const send = (message: string) => {
    if (stopped) return;
    t.send(message).then(
      () => {
        if (failing) log.info('sd_notify works again', { failures });
        failing = false;
      },
      (err: unknown) => {
        failures++;
        if (!failing) log.warn('sd_notify failed', { socket, err: errorMessage(err), transport: kind });
        failing = true;
      },
    );
  };
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');

  return {
    enabled: true,
    transport: kind,
    watchdogIntervalMs,
    ready: (status) => send(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`),
    status: (text) => send(`STATUS=${oneLine(text)}`),
    stopping: () => send('STOPPING=1'),
    startWatchdog: () => {
      if (watchdogIntervalMs === undefined || timer !== undefined || stopped) return;
      send('WATCHDOG=1');
      timer = opts.clock.setInterval(() => send('WATCHDOG=1'), watchdogIntervalMs);
    },
    stop: () => {
      opts.clock.clearInterval(timer);
      timer = undefined;
      stopped = true;
      t.close();
    },
  };
}
