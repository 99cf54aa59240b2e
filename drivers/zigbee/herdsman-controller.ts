import * as path from 'node:path';
import { DriverUnavailableError } from '../driver';
import { errorMessage, type Logger } from '../../src/core/logger';
import type { ReportingItem, ZigbeeController, ZigbeeDeviceInfo, ZigbeeEvent } from './controller';

type Herdsman = typeof import('zigbee-herdsman');
type Controller = import('zigbee-herdsman').Controller;
type Device = ReturnType<Controller['getDevices']>[number];
type Endpoint = Device['endpoints'][number];

export interface HerdsmanOptions {
  adapter: { type: 'zstack' | 'ember' | 'deconz' | 'zigate'; path: string; baudRate?: number; rtscts?: boolean };
  channel: number;
  panId: number;
  /** 16 bytes. Passed to herdsman only; never logged. */
  networkKey: number[];
  /** Directory for database.db, its backup and the coordinator backup. */
  stateDir: string;
  log: Logger;
}

/** Load zigbee-herdsman lazily: only a configured Zigbee driver pays for it. */
export function loadHerdsman(): Herdsman {
  try {
    // Lazy, synchronous require so the heavy stack loads only when a zigbee driver starts.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('zigbee-herdsman') as Herdsman;
  } catch (err) {
    throw new DriverUnavailableError(`zigbee-herdsman cannot be loaded: ${errorMessage(err)}`, 'reinstall with `npm ci` (zigbee-herdsman is an optional dependency built for this Node version)');
  }
}

/** Turn an adapter start failure into a message an engineer on site can act on. */
export function describeStartError(err: unknown, port: string): Error {
  const msg = errorMessage(err);
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || /no such file or directory/i.test(msg)) return new Error(`no Zigbee adapter at ${port} (unplugged, or wrong path; prefer /dev/serial/by-id/...): ${msg}`);
  if (/cannot lock port/i.test(msg)) return new Error(`${port} is locked by another program (Cannot lock port): find it with \`fuser -v ${port}\` (often zigbee2mqtt, or ModemManager probing the tty) and stop it: ${msg}`);
  if (code === 'EACCES' || /permission denied/i.test(msg)) return new Error(`no permission to open ${port}: add the daemon's user to group dialout: ${msg}`);
  return new Error(`Zigbee adapter at ${port} failed to start: ${msg}`);
}

/**
 * Release the serial port (or socket) of a herdsman Controller whose start() failed.
 * zigbee-herdsman 10.9.5's Controller.stop() stops the adapter only once adapter.start()
 * has succeeded (`adapterDisconnected` is still true before that), and adapter.start()
 * (e.g. Z-Stack's: open, then 3 pings) does not close what it opened when a later step
 * fails. Left alone, the tty stays open and flock-ed, and every retry fails with
 * "Cannot lock port" — so close the adapter itself.
 */
async function closeFailedStart(c: Controller, log: Logger): Promise<void> {
  try {
    if (!c.isAdapterDisconnected()) {
      await c.stop();
      return;
    }
    // `adapter` is private in herdsman's typings; it is a plain property set by start().
    const adapter = (c as unknown as { adapter?: { stop(): Promise<void> } }).adapter;
    await adapter?.stop();
  } catch (err) {
    log.warn('closing the Zigbee adapter after a failed start', { error: errorMessage(err) });
  }
}

/** The fields of herdsman's 'message' payload (events.d.ts MessagePayload) that we read. */
export interface HerdsmanMessage {
  type: string;
  device: { ieeeAddr: string };
  endpoint: { ID: number };
  cluster: string | number;
  data: unknown;
  linkquality?: number;
}

/**
 * One herdsman 'message' as our event: attribute reports and read responses carry
 * attributes; cluster-specific commands arrive as type `command${Name}` with the
 * parsed payload (ssIasZone "commandStatusChangeNotification" → statusChangeNotification).
 * Raw frames, global reads/writes and non-object data are not values.
 */
export function messageEvent(m: HerdsmanMessage): ZigbeeEvent | undefined {
  const data = m.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data) || Buffer.isBuffer(data)) return undefined;
  const base = { ieee: m.device.ieeeAddr, endpoint: m.endpoint.ID, cluster: String(m.cluster) };
  const payload = data as Record<string, unknown>;
  if (m.type === 'attributeReport' || m.type === 'readResponse') return { type: 'attributeReport', ...base, attributes: payload, linkquality: m.linkquality };
  const name = /^command([A-Z].*)$/.exec(m.type)?.[1];
  if (!name) return undefined;
  return { type: 'clusterCommand', ...base, command: name[0].toLowerCase() + name.slice(1), payload, linkquality: m.linkquality };
}

const INTERVIEW: Record<string, ZigbeeDeviceInfo['interview']> = { PENDING: 'pending', IN_PROGRESS: 'in-progress', SUCCESSFUL: 'successful', FAILED: 'failed' };

/**
 * ZigbeeController on zigbee-herdsman 10. Each start() builds a fresh herdsman
 * Controller (a disconnected one is not reusable); its database and backups
 * live in the driver's state dir.
 */
export class HerdsmanController implements ZigbeeController {
  private controller?: Controller;
  private readonly listeners = new Set<(e: ZigbeeEvent) => void>();

  constructor(private readonly opts: HerdsmanOptions) {}

  async start(): Promise<void> {
    const zh = loadHerdsman();
    const log = this.opts.log;
    // herdsman has one process-wide logger; route it into ours (debug chatter at debug).
    zh.setLogger({
      debug: (m, ns) => log.isEnabled('debug') && log.debug(typeof m === 'function' ? m() : m, { ns }),
      info: (m, ns) => log.debug(typeof m === 'function' ? m() : m, { ns }),
      warning: (m, ns) => log.warn(typeof m === 'function' ? m() : m, { ns }),
      error: (m, ns) => log.warn(m, { ns }),
    });
    const dir = this.opts.stateDir;
    const c = new zh.Controller({
      serialPort: { path: this.opts.adapter.path, adapter: this.opts.adapter.type, baudRate: this.opts.adapter.baudRate, rtscts: this.opts.adapter.rtscts },
      databasePath: path.join(dir, 'database.db'),
      databaseBackupPath: path.join(dir, 'database.db.backup'),
      backupPath: path.join(dir, 'coordinator-backup.json'),
      network: { panID: this.opts.panId, channelList: [this.opts.channel], networkKey: this.opts.networkKey },
      adapter: { disableLED: false },
      acceptJoiningDeviceHandler: async () => true,
    });
    c.on('message', (m) => {
      const e = messageEvent(m);
      if (e) this.fire(e);
    });
    c.on('deviceJoined', (e) => this.fire({ type: 'deviceJoined', ieee: e.device.ieeeAddr }));
    c.on('deviceInterview', (e) => this.fire({ type: 'deviceInterview', ieee: e.device.ieeeAddr, status: e.status }));
    c.on('deviceLeave', (e) => this.fire({ type: 'deviceLeave', ieee: e.ieeeAddr }));
    c.on('adapterDisconnected', () => this.fire({ type: 'adapterDisconnected' }));
    this.controller = c;
    try {
      await c.start();
    } catch (err) {
      c.removeAllListeners();
      this.controller = undefined;
      await closeFailedStart(c, log);
      throw describeStartError(err, this.opts.adapter.path);
    }
  }

  async stop(): Promise<void> {
    const c = this.controller;
    this.controller = undefined;
    if (!c) return;
    c.removeAllListeners();
    await c.stop();
  }

  async permitJoin(seconds: number): Promise<void> {
    await this.running().permitJoin(seconds);
  }

  devices(): ZigbeeDeviceInfo[] {
    const c = this.controller;
    if (!c) return [];
    return [...c.getDevicesIterator((d) => d.type !== 'Coordinator')].map((d) => ({
      ieee: d.ieeeAddr,
      networkAddress: d.networkAddress,
      type: d.type,
      model: d.modelID,
      vendor: d.manufacturerName,
      interview: INTERVIEW[d.interviewState] ?? 'pending',
      lastSeen: d.lastSeen,
      endpoints: d.endpoints.map((e) => e.ID),
    }));
  }

  async read(ieee: string, endpoint: number | undefined, cluster: string, attributes: string[]): Promise<Record<string, unknown>> {
    // Attribute names come from config/CLI as strings; herdsman's typings want per-cluster keys.
    return (await this.endpoint(ieee, endpoint, cluster).read(cluster, attributes as never)) as Record<string, unknown>;
  }

  async command(ieee: string, endpoint: number | undefined, cluster: string, command: string, payload: Record<string, unknown>): Promise<void> {
    // herdsman types payloads per cluster/command; names arrive as strings from config.
    await this.endpoint(ieee, endpoint, cluster).command(cluster, command, payload as never);
  }

  async bind(ieee: string, endpoint: number | undefined, cluster: string): Promise<void> {
    const c = this.running();
    const coordinator = c.getDevicesByType('Coordinator')[0];
    const target = coordinator?.getEndpoint(1) ?? coordinator?.endpoints[0];
    if (!target) throw new Error('the coordinator has no endpoint to bind to (its interview is not in the database)');
    await this.endpoint(ieee, endpoint, cluster).bind(cluster, target);
  }

  async configureReporting(ieee: string, endpoint: number | undefined, cluster: string, items: ReportingItem[]): Promise<void> {
    await this.endpoint(ieee, endpoint, cluster).configureReporting(cluster, items as never);
  }

  onEvent(listener: (e: ZigbeeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private fire(e: ZigbeeEvent): void {
    for (const l of this.listeners) l(e);
  }

  private running(): Controller {
    if (!this.controller) throw new Error('Zigbee coordinator is not running');
    return this.controller;
  }

  private endpoint(ieee: string, id: number | undefined, cluster: string): Endpoint {
    const d = this.running().getDeviceByIeeeAddr(ieee);
    if (!d) throw new Error(`no Zigbee device ${ieee} in the network`);
    const ep = id !== undefined ? d.getEndpoint(id) : (d.endpoints.find((e) => e.supportsInputCluster(cluster)) ?? d.endpoints[0]);
    if (!ep) throw new Error(`device ${ieee} has no endpoint ${id ?? `with cluster ${cluster}`}`);
    return ep;
  }
}
