import { DriverUnavailableError } from '../driver';
import type { Clock, TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import type { Advertisement, BleRadio, CharacteristicRef, GattConnection } from './radio';
import { normaliseAddress, normaliseUuid } from './radio';

type Noble = typeof import('@abandonware/noble');
type Peripheral = import('@abandonware/noble').Peripheral;
type Characteristic = import('@abandonware/noble').Characteristic;

/**
 * noble talks raw HCI, which needs CAP_NET_RAW (noble's README: `setcap cap_net_raw+eip`
 * on node); group membership (bluetooth) does not grant it.
 */
export const BLE_UNAVAILABLE_FIX =
  'check the adapter with `bluetoothctl show` (or `hciconfig`), unblock it with `rfkill unblock bluetooth`, and give the daemon raw HCI access: ' +
  'run it with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN (the service gets them from the drop-in scripts/install.sh writes for a config with a ble driver: run it again after adding one), or `sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))` (the bluetooth group alone does not grant raw HCI access)';

/** Why the HCI socket failed, by errno, as @abandonware/bluetooth-hci-socket throws it. */
function hciError(err: unknown, hci: number): DriverUnavailableError {
  const code = (err as NodeJS.ErrnoException).code;
  const detail = `${code ? `${code}: ` : ''}${errorMessage(err)}`;
  const reason: Record<string, string> = {
    EAFNOSUPPORT: `no Bluetooth adapter (hci${hci}) found: this kernel has no Bluetooth support (${detail})`,
    ENODEV: `no Bluetooth adapter hci${hci} (${detail})`,
    EPERM: `no permission to use Bluetooth adapter hci${hci} (${detail})`,
    EACCES: `no permission to use Bluetooth adapter hci${hci} (${detail})`,
  };
  return new DriverUnavailableError((code && reason[code]) ?? `no Bluetooth adapter (hci${hci}) found, or no permission to use it (${detail})`, BLE_UNAVAILABLE_FIX);
}

/**
 * Load a fresh noble lazily. noble 1.9.2-26 creates its HCI socket on require
 * (EAFNOSUPPORT on a kernel without Bluetooth) and binds the adapter on first use
 * of `state` or scanning (ENODEV, EPERM): both become a DriverUnavailableError
 * with the fix. Each call returns a new noble instance (the module is dropped
 * from the require cache), so a retry after a failure starts from scratch.
 */
export function loadNoble(hci: number): Noble {
  // noble picks its adapter from this variable when its HCI layer is constructed.
  if (hci !== 0 && process.env.NOBLE_HCI_DEVICE_ID === undefined) process.env.NOBLE_HCI_DEVICE_ID = String(hci);
  try {
    // A synchronous, lazy require (not a static import): the module must only be
    // loaded when a BLE driver or `ble scan` actually runs, and its throw mapped here.
    const id = require.resolve('@abandonware/noble');
    delete require.cache[id];
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(id) as Noble;
  } catch (err) {
    throw hciError(err, hci);
  }
}

/** The parts of noble's hci-socket bindings that must be released by hand (noble has no close()). */
interface NobleInternals {
  _bindings?: { _hci?: { pollIsDevUp?: () => void; init?: () => void; _socket?: { stop?: () => void; removeAllListeners?: () => void } } };
}

/**
 * Release what noble holds so the process can exit and a fresh noble can take
 * over: its HCI socket's poll handle (ref'd by the native addon), the 1 s
 * `pollIsDevUp` timer it re-arms for ever, and the process listeners it added.
 */
function releaseNoble(noble: Noble, processListeners: ProcessListeners): void {
  const hci = (noble as unknown as NobleInternals)._bindings?._hci;
  if (hci) {
    // The pending tick (≤ 1 s) re-arms nothing, and cannot re-init (restart the socket) if the adapter comes up meanwhile.
    hci.pollIsDevUp = () => undefined;
    hci.init = () => undefined;
    hci._socket?.stop?.();
    hci._socket?.removeAllListeners?.();
  }
  processListeners.remove();
  noble.removeAllListeners();
}

/** The 'exit' and 'SIGINT' listeners noble's bindings add when they initialise (synchronously, between start() and done()). */
class ProcessListeners {
  private readonly before = { exit: new Set(process.listeners('exit')), SIGINT: new Set(process.listeners('SIGINT')) };
  private added: { exit: NodeJS.ExitListener[]; SIGINT: NodeJS.SignalsListener[] } = { exit: [], SIGINT: [] };

  done(): void {
    this.added = { exit: process.listeners('exit').filter((l) => !this.before.exit.has(l)), SIGINT: process.listeners('SIGINT').filter((l) => !this.before.SIGINT.has(l)) };
  }

  remove(): void {
    for (const l of this.added.exit) process.removeListener('exit', l);
    for (const l of this.added.SIGINT) process.removeListener('SIGINT', l);
  }
}

function stateError(state: string, hci: number): DriverUnavailableError {
  const reason: Record<string, string> = {
    unauthorized: 'no permission to use the Bluetooth adapter',
    unsupported: `adapter hci${hci} does not support Bluetooth Low Energy`,
    poweredOff: `Bluetooth adapter hci${hci} is powered off or blocked`,
  };
  return new DriverUnavailableError(reason[state] ?? `Bluetooth adapter hci${hci} is in state "${state}"`, BLE_UNAVAILABLE_FIX);
}

/** Keep at most this many peripherals seen (a busy site can have hundreds of BLE devices). */
const MAX_PERIPHERALS = 1000;

/**
 * Initialise noble's HCI layer: reading `state` binds the adapter (noble's lazy
 * init) and throws ENODEV/EPERM. `state` exists at runtime but is not in noble's typings.
 */
function initState(noble: Noble, hci: number): string | undefined {
  try {
    return (noble as unknown as { state?: string }).state;
  } catch (err) {
    throw hciError(err, hci);
  }
}

/** Wait for noble to report poweredOn (it starts 'unknown' while the HCI socket initialises). */
async function poweredOn(noble: Noble, current: string | undefined, clock: Clock, hci: number, timeoutMs: number): Promise<void> {
  if (current === 'poweredOn') return;
  // A down adapter reports poweredOff during that same init, before any listener could hear it.
  if (current !== undefined && current !== 'unknown' && current !== 'resetting') throw stateError(current, hci);
  await new Promise<void>((resolve, reject) => {
    let timer: TimerHandle | undefined = undefined;
    const onState = (state: string) => {
      if (state === 'poweredOn') finish();
      else if (state !== 'unknown' && state !== 'resetting') finish(stateError(state, hci));
    };
    const finish = (err?: Error) => {
      clock.clearTimeout(timer);
      noble.removeListener('stateChange', onState);
      if (err) reject(err);
      else resolve();
    };
    timer = clock.setTimeout(() => finish(stateError(current ?? 'unknown', hci)), timeoutMs);
    noble.on('stateChange', onState);
  });
}

class NobleGattConnection implements GattConnection {
  constructor(
    private readonly peripheral: Peripheral,
    private readonly chars: Map<string, Characteristic>,
  ) {}

  private char(ref: CharacteristicRef): Characteristic {
    const c = this.chars.get(`${normaliseUuid(ref.service)}/${normaliseUuid(ref.characteristic)}`);
    if (!c) throw new Error(`characteristic ${ref.characteristic} of service ${ref.service} was not discovered`);
    return c;
  }

  read(ref: CharacteristicRef): Promise<Buffer> {
    return this.char(ref).readAsync();
  }

  write(ref: CharacteristicRef, data: Buffer, withoutResponse: boolean): Promise<void> {
    return this.char(ref).writeAsync(data, withoutResponse);
  }

  async subscribe(ref: CharacteristicRef, onData: (data: Buffer) => void): Promise<void> {
    const c = this.char(ref);
    c.on('data', (data: Buffer, isNotification: boolean) => {
      if (isNotification) onData(data);
    });
    await c.subscribeAsync();
  }

  onDisconnect(listener: (reason: string) => void): void {
    this.peripheral.once('disconnect', (reason: unknown) => listener(reason ? String(reason) : 'disconnected'));
  }

  disconnect(): Promise<void> {
    return this.peripheral.disconnectAsync();
  }
}

/** BleRadio on @abandonware/noble. Create with createNobleRadio(). */
class NobleRadio implements BleRadio {
  private readonly peripherals = new Map<string, Peripheral>();
  private readonly listeners = new Set<(adv: Advertisement) => void>();
  private readonly onDiscover = (p: Peripheral) => this.discovered(p);

  constructor(
    private readonly noble: Noble,
    private readonly clock: Clock,
    private readonly release: () => void,
  ) {
    noble.on('discover', this.onDiscover);
  }

  /** Active scanning: noble 1.9.2-26 always sets LE scan type 0x01 (active) in hci.js setScanParameters. */
  startScanning(): Promise<void> {
    return this.noble.startScanningAsync([], true);
  }

  stopScanning(): Promise<void> {
    return this.noble.stopScanningAsync();
  }

  onAdvertisement(listener: (adv: Advertisement) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async connect(address: string, refs: CharacteristicRef[], timeoutMs: number): Promise<GattConnection> {
    const p = this.peripherals.get(normaliseAddress(address));
    if (!p) throw new Error(`device ${address} has not been seen advertising yet`);
    let timer: TimerHandle | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(() => {
        p.cancelConnect();
        void p.disconnectAsync().catch(() => undefined); // best effort after a timeout; the timeout is the error reported
        reject(new Error(`connect to ${address} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.open(p, refs), timeout]);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private async open(p: Peripheral, refs: CharacteristicRef[]): Promise<GattConnection> {
    await p.connectAsync();
    const services = [...new Set(refs.map((r) => normaliseUuid(r.service)))];
    const charUuids = [...new Set(refs.map((r) => normaliseUuid(r.characteristic)))];
    const found = await p.discoverSomeServicesAndCharacteristicsAsync(services, charUuids);
    const chars = new Map<string, Characteristic>();
    for (const s of found.services) for (const c of s.characteristics ?? []) chars.set(`${normaliseUuid(s.uuid)}/${normaliseUuid(c.uuid)}`, c);
    const missing = refs.filter((r) => !chars.has(`${normaliseUuid(r.service)}/${normaliseUuid(r.characteristic)}`));
    if (missing.length > 0) {
      await p.disconnectAsync();
      throw new Error(`characteristic(s) not found: ${missing.map((m) => `${m.service}/${m.characteristic}`).join(', ')}`);
    }
    return new NobleGattConnection(p, chars);
  }

  async close(): Promise<void> {
    this.noble.removeListener('discover', this.onDiscover);
    this.listeners.clear();
    try {
      await this.noble.stopScanningAsync();
      for (const p of this.peripherals.values()) if (p.state === 'connected') await p.disconnectAsync();
    } finally {
      this.peripherals.clear();
      this.release();
    }
  }

  private discovered(p: Peripheral): void {
    const address = normaliseAddress(p.address);
    if (!this.peripherals.has(address) && this.peripherals.size >= MAX_PERIPHERALS) {
      const oldest = this.peripherals.keys().next().value as string;
      this.peripherals.delete(oldest);
    }
    this.peripherals.set(address, p);
    const a = p.advertisement;
    const adv: Advertisement = {
      address,
      rssi: p.rssi,
      localName: a.localName || undefined,
      serviceData: (a.serviceData ?? []).map((s) => ({ uuid: normaliseUuid(s.uuid), data: s.data })),
      manufacturerData: a.manufacturerData ?? undefined,
      ts: this.clock.now(),
    };
    for (const l of this.listeners) l(adv);
  }
}

export interface NobleRadioOptions {
  hci: number;
  clock: Clock;
  /** How long to wait for the adapter to power on. */
  poweredOnTimeoutMs?: number;
}

/** Load noble and wait for the adapter; throws DriverUnavailableError when there is no usable adapter. */
export async function createNobleRadio(opts: NobleRadioOptions): Promise<BleRadio> {
  const listeners = new ProcessListeners();
  const noble = loadNoble(opts.hci);
  const release = () => releaseNoble(noble, listeners);
  try {
    let state: string | undefined;
    try {
      state = initState(noble, opts.hci);
    } finally {
      listeners.done();
    }
    await poweredOn(noble, state, opts.clock, opts.hci, opts.poweredOnTimeoutMs ?? 10_000);
  } catch (err) {
    release();
    throw err;
  }
  return new NobleRadio(noble, opts.clock, release);
}
