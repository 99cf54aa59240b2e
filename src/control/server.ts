/**
 * The daemon side of the control socket. Answers the local CLI from a GatewayView.
 *
 * Lifecycle: start() prepares the socket path (refusing when another daemon owns
 * it), listens with the socket created at mode 0660 (never wider, not even for a
 * moment), applies the group; stop() closes every client and removes the socket
 * file. A bad request never throws past this class: it gets an error reply, is
 * counted, and is logged at debug level.
 *
 * Per-client limits: a client that sends no request for idleTimeoutMs (and is not
 * watching) is told so and closed, so idle connections cannot hold all maxClients
 * slots; at most maxPendingPerClient requests of one client are answered at a time.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import type { Reading } from '../core/reading';
import type { GatewayView } from '../daemon/view';
import {
  encodeLine,
  isControlMethod,
  LineSplitter,
  MAX_LINE_BYTES,
  METHODS,
  methodParams,
  requestSchema,
  type ControlMessage,
  type ControlMethod,
} from './protocol';
import { applySocketPermissions, listenWithMode, prepareSocketPath, SOCKET_MODE } from './socket-file';

export interface ControlServerOptions {
  socketPath: string;
  /** Group that owns the socket (name or gid); unset keeps the daemon's group. */
  group?: string;
  view: GatewayView;
  log: Logger;
  /** Connections beyond this are told so and closed (default 16). */
  maxClients?: number;
  /** A watch client whose unsent output exceeds this is closed (default 1 MiB). */
  maxBufferedBytes?: number;
  /** A client that sends no request for this long, and watches nothing, is closed (default 30 s). */
  idleTimeoutMs?: number;
  /** Requests of one client being answered at once, at most (default 4); more get an error reply. */
  maxPendingPerClient?: number;
  /** Runs the idle timers (default the system clock). */
  clock?: Clock;
  /** For tests: where group names are resolved (default /etc/group). */
  groupFile?: string;
}

export interface ControlServerStats {
  clients: number;
  requests: number;
  badRequests: number;
  refusedClients: number;
  slowClientsClosed: number;
  idleClientsClosed: number;
}

type RequestId = number | string;

interface Client {
  socket: net.Socket;
  unsubscribers: (() => void)[];
  pending: number;
  idleTimer: TimerHandle | undefined;
}

export class ControlServer {
  private server: net.Server | undefined;
  private readonly clients = new Set<Client>();
  private readonly counters = { requests: 0, badRequests: 0, refusedClients: 0, slowClientsClosed: 0, idleClientsClosed: 0 };
  private readonly maxClients: number;
  private readonly maxBufferedBytes: number;
  private readonly idleTimeoutMs: number;
  private readonly maxPending: number;
  private readonly clock: Clock;

  constructor(private readonly opts: ControlServerOptions) {
    this.maxClients = opts.maxClients ?? 16;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 1024 * 1024;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.maxPending = opts.maxPendingPerClient ?? 4;
    this.clock = opts.clock ?? systemClock;
  }

  get socketPath(): string {
    return this.opts.socketPath;
  }

  stats(): ControlServerStats {
    return { clients: this.clients.size, ...this.counters };
  }

  async start(): Promise<void> {
    if (this.server) return;
    const stale = await prepareSocketPath(this.opts.socketPath);
    if (stale === 'removed-stale') this.opts.log.warn('removed stale control socket', { socket: this.opts.socketPath });
    const server = net.createServer((s) => this.accept(s));
    server.on('error', (err) => this.opts.log.error('control socket error', { err: errorMessage(err) }));
    await listenWithMode(server, this.opts.socketPath, SOCKET_MODE);
    this.server = server;
    try {
      applySocketPermissions(this.opts.socketPath, this.opts.group, this.opts.groupFile);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.opts.log.info('control socket listening', { socket: this.opts.socketPath, group: this.opts.group });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const c of this.clients) this.drop(c);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    try {
      fs.unlinkSync(this.opts.socketPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.opts.log.warn('could not remove control socket', { socket: this.opts.socketPath, err: errorMessage(err) });
      }
    }
  }

  private accept(socket: net.Socket): void {
    socket.setEncoding('utf8');
    socket.on('error', (err) => this.opts.log.debug('control client error', { err: errorMessage(err) }));
    if (this.clients.size >= this.maxClients) {
      this.counters.refusedClients++;
      this.opts.log.warn('control client refused: too many clients', { max: this.maxClients });
      socket.end(encodeLine({ id: null, ok: false, error: `too many control clients (max ${this.maxClients})` }));
      // Read (and discard) until the client's FIN: a paused socket never sees it, never
      // closes, and would hold stop() (server.close waits for every connection) forever.
      socket.resume();
      return;
    }
    const client: Client = { socket, unsubscribers: [], pending: 0, idleTimer: undefined };
    this.clients.add(client);
    this.armIdleTimer(client);
    const lines = new LineSplitter(MAX_LINE_BYTES);
    const onData = (chunk: string) => {
      const got = lines.push(chunk);
      if (got === 'overflow') {
        this.counters.badRequests++;
        this.opts.log.debug('control request line too long; closing client', { limit: MAX_LINE_BYTES });
        this.send(client, { id: null, ok: false, error: `request line too long (limit ${MAX_LINE_BYTES} bytes)` });
        socket.off('data', onData);
        socket.resume(); // discard the rest of the client's input while the reply flushes
        socket.end();
        this.release(client);
        return;
      }
      if (got.length > 0) this.armIdleTimer(client);
      for (const line of got) void this.handleLine(client, line);
    };
    socket.on('data', onData);
    socket.on('close', () => this.release(client));
  }

  /** (Re)starts the idle countdown; a watching client is never idle (it reads a stream). */
  private armIdleTimer(client: Client): void {
    this.clock.clearTimeout(client.idleTimer);
    client.idleTimer = this.clock.setTimeout(() => {
      client.idleTimer = undefined;
      if (client.unsubscribers.length > 0 || client.pending > 0) return;
      this.counters.idleClientsClosed++;
      this.opts.log.debug('control client idle; closing it', { idleTimeoutMs: this.idleTimeoutMs });
      this.send(client, { id: null, ok: false, error: `idle for ${this.idleTimeoutMs} ms; closing the connection` });
      client.socket.end();
      this.release(client);
    }, this.idleTimeoutMs);
  }

  private release(client: Client): void {
    this.clock.clearTimeout(client.idleTimer);
    client.idleTimer = undefined;
    for (const u of client.unsubscribers.splice(0)) u();
    this.clients.delete(client);
  }

  private drop(client: Client): void {
    this.release(client);
    client.socket.destroy();
  }

  private send(client: Client, msg: ControlMessage): void {
    if (client.socket.destroyed || client.socket.writableEnded) return;
    client.socket.write(encodeLine(msg));
  }

  private reject(client: Client, id: RequestId | null, error: string): void {
    this.counters.badRequests++;
    this.opts.log.debug('bad control request', { error });
    this.send(client, { id, ok: false, error });
  }

  private async handleLine(client: Client, line: string): Promise<void> {
    this.counters.requests++;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (err) {
      this.reject(client, null, `malformed JSON: ${errorMessage(err)}`);
      return;
    }
    const req = requestSchema.safeParse(json);
    if (!req.success) {
      const id = extractId(json);
      this.reject(client, id, `bad request: ${req.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      return;
    }
    const { id, method, params } = req.data;
    if (!isControlMethod(method)) {
      this.reject(client, id, `unknown method "${method}"; methods: ${METHODS.join(', ')}`);
      return;
    }
    const parsed = methodParams[method].safeParse(params);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ');
      this.reject(client, id, `bad params for ${method}: ${issues}`);
      return;
    }
    if (client.pending >= this.maxPending) {
      this.reject(client, id, `too many requests in flight on this connection (max ${this.maxPending}); wait for the replies`);
      return;
    }
    client.pending++;
    try {
      const result = await this.call(client, id, method, parsed.data);
      this.send(client, { id, ok: true, result });
    } catch (err) {
      this.counters.badRequests++;
      this.send(client, { id, ok: false, error: errorMessage(err) });
    } finally {
      client.pending--;
      if (this.clients.has(client)) this.armIdleTimer(client);
    }
  }

  // The params object was validated against methodParams[method] just before.
  private async call(client: Client, id: RequestId, method: ControlMethod, p: Record<string, unknown>): Promise<unknown> {
    const view = this.opts.view;
    switch (method) {
      case 'status':
        return view.status();
      case 'sensors':
        return view.sensors();
      case 'rules':
        return view.rules();
      case 'buffer':
        return view.buffer();
      case 'read':
        return view.readFresh(p.sensor as string, p.timeoutMs as number);
      case 'actuate':
        return view.actuate(p.actuator as string, p.value, p.release as boolean);
      case 'driver':
        return view.driverCall(p.driver as string, p.op as string, p.args as unknown[]);
      case 'alarms':
        return view.alarms();
      case 'ack':
        return view.ackAlarm(p.alarm as string, `local:${p.by as string}`);
      case 'watch':
        return this.watch(client, id, p.sensors as string[]);
      case 'deploy.rollback':
        if (!view.rollbackDeploy) throw new Error('this daemon takes no deploys');
        return view.rollbackDeploy(p.version as number | undefined);
    }
  }

  private watch(client: Client, id: RequestId, sensors: string[]): { watching: string[] | 'all' } {
    const wanted = sensors.length > 0 ? new Set(sensors) : undefined;
    const unsubscribe = this.opts.view.subscribeReadings((r: Reading) => {
      if (wanted && !wanted.has(r.sensor)) return;
      if (client.socket.writableLength > this.maxBufferedBytes) {
        this.counters.slowClientsClosed++;
        this.opts.log.warn('control watch client too slow; closing it', { buffered: client.socket.writableLength });
        this.drop(client);
        return;
      }
      this.send(client, { id, event: { sensor: r.sensor, ts: r.ts, value: r.value, quality: r.quality, flags: r.flags } });
    });
    client.unsubscribers.push(unsubscribe);
    return { watching: wanted ? [...wanted] : 'all' };
  }
}

function extractId(json: unknown): RequestId | null {
  if (json && typeof json === 'object' && 'id' in json) {
    const id = (json as { id: unknown }).id;
    if (typeof id === 'number' || typeof id === 'string') return id;
  }
  return null;
}
