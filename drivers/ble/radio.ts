/**
 * The BLE hardware seam. The driver talks to a radio only through this port;
 * noble-radio.ts implements it on @abandonware/noble, fake-radio.ts replays
 * recorded advertisements for tests and demos.
 *
 * Call order: onAdvertisement() listeners may be added at any time;
 * startScanning() → advertisements flow → stopScanning(); connect() may be
 * called while scanning (noble may stop scanning as a side effect — the driver
 * restarts it). close() releases the radio; nothing is called after it.
 * Only one connect() is in flight at a time (the driver serialises them).
 */

export interface ServiceData {
  /** Lower-case UUID without dashes; 16-bit UUIDs as 4 hex digits ("fcd2", "181a"). */
  uuid: string;
  data: Buffer;
}

export interface Advertisement {
  /** Lower-case MAC address "aa:bb:cc:dd:ee:ff". */
  address: string;
  rssi: number;
  localName?: string;
  serviceData: ServiceData[];
  /** Manufacturer specific data including its 2-byte little-endian company id. */
  manufacturerData?: Buffer;
  /** Receive time, epoch ms (the radio stamps it with the injected clock). */
  ts: number;
}

export interface CharacteristicRef {
  /** Service UUID, lower-case without dashes. */
  service: string;
  /** Characteristic UUID, lower-case without dashes. */
  characteristic: string;
}

/** An open GATT connection to one peripheral. */
export interface GattConnection {
  read(ref: CharacteristicRef): Promise<Buffer>;
  write(ref: CharacteristicRef, data: Buffer, withoutResponse: boolean): Promise<void>;
  /** Enable notifications; `onData` is called with every notified value until disconnect. */
  subscribe(ref: CharacteristicRef, onData: (data: Buffer) => void): Promise<void>;
  /** Called once when the link drops (or disconnect() completes). */
  onDisconnect(listener: (reason: string) => void): void;
  disconnect(): Promise<void>;
}

export interface BleRadio {
  /** Start scanning with duplicates reported (advertisements repeat). noble scans actively (no passive mode). */
  startScanning(): Promise<void>;
  stopScanning(): Promise<void>;
  /** Returns a function that removes the listener. */
  onAdvertisement(listener: (adv: Advertisement) => void): () => void;
  /**
   * Connect to a peripheral and discover the given characteristics; rejects if
   * a characteristic is missing or the timeout passes.
   */
  connect(address: string, characteristics: CharacteristicRef[], timeoutMs: number): Promise<GattConnection>;
  close(): Promise<void>;
}

/** Normalise a UUID as noble reports it: lower-case, no dashes; 0000xxxx-0000-1000-8000-00805f9b34fb → xxxx. */
export function normaliseUuid(uuid: string): string {
  const u = uuid.toLowerCase().replace(/-/g, '');
  const m = /^0000([0-9a-f]{4})00001000800000805f9b34fb$/.exec(u);
  return m ? m[1] : u;
}

/** Normalise a MAC address to lower-case colon-separated form. */
export function normaliseAddress(address: string): string {
  return address.toLowerCase().replace(/-/g, ':');
}
