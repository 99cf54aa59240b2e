import { DriverUnavailableError } from '../driver';
import type { Clock, TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import type { Advertisement, BleRadio, CharacteristicRef, GattConnection } from './radio';
import { normaliseAddress, normaliseUuid } from './radio';

type Noble = typeof import('@abandonware/noble');
type Peripheral = import('@abandonware/noble').Peripheral;
type Characteristic = import('@abandonware/noble').Characteristic;

export const BLE_UNAVAILABLE_FIX =
  'check the adapter with `bluetoothctl show` (or `hciconfig`), unblock it with `rfkill unblock bluetooth`, and give the daemon raw HCI access: ' +
  'run it with AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN (the service gets them from the drop-in scripts/install.sh writes for a config with a ble driver: run it again after adding one), or `sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))`, or add the user to group bluetooth';

/**
 * Load noble lazily. Requiring it opens the HCI socket at once, so on a box
 * without Bluetooth (or without permission) the require itself throws
 * (EAFNOSUPPORT, EPERM ...): that becomes a DriverUnavailableError with the fix.
 */
export function loadNoble(hci: number): Noble {
  // noble picks its adapter from this variable when it is first required.
  if (hci !== 0 && process.env.NOBLE_HCI_DEVICE_ID === undefined) process.env.NOBLE_HCI_DEVICE_ID = String(hci);
  try {
    // A synchronous, lazy require (not a static import): the module must only be
    // loaded when a BLE driver or `ble scan` actually runs, and its throw mapped here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@abandonware/noble') as Noble;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DriverUnavailableError(
      `no Bluetooth adapter (hci${hci}) found, or no permission to use it (${code ? `${code}: ` : ''}${errorMessage(err)})`,
      BLE_UNAVAILABLE_FIX,
    );
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

/** Wait for noble to report poweredOn (it starts 'unknown' while the HCI socket initialises). */
async function poweredOn(noble: Noble, clock: Clock, hci: number, timeoutMs: number): Promise<void> {
  const current = (noble as unknown as { state?: string }).state; // `state` exists at runtime but is not in noble's typings
  if (current === 'poweredOn') return;
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
  ) {
    noble.on('discover', this.onDiscover);
  }

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
    await this.noble.stopScanningAsync();
    for (const p of this.peripherals.values()) if (p.state === 'connected') await p.disconnectAsync();
    this.peripherals.clear();
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
  const noble = loadNoble(opts.hci);
  await poweredOn(noble, opts.clock, opts.hci, opts.poweredOnTimeoutMs ?? 10_000);
  return new NobleRadio(noble, opts.clock);
}
