import { decodeAdvertisement, type DecodeResult } from '../../drivers/ble/decoders';
import { createNobleRadio } from '../../drivers/ble/noble-radio';
import type { Advertisement, BleRadio } from '../../drivers/ble/radio';
import { DriverUnavailableError } from '../../drivers/driver';
import { systemClock, type Clock } from '../core/clock';
import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CommandModule } from './command';
import { table } from './format';

const usage = `Usage:
  fieldgate ble scan [--seconds N] [--hci N] [--json]   list nearby BLE devices with decoded values and RSSI
  fieldgate ble decode HEX [--uuid UUID | --manufacturer ID] [--key HEX] [--address MAC] [--json]
                                                       decode one captured advertisement (btmon, nRF Connect)

Scans with the local Bluetooth adapter directly (stop the daemon's BLE driver
first if the adapter cannot scan twice). Decodes BTHome v2, RuuviTag RAWv2 and
ATC1441/pvvx advertisements; other devices are listed with RSSI and name only.
  --seconds N   how long to listen (default 10)
  --hci N       adapter index (default 0 = hci0)
  --json        one JSON array instead of a table (decode: the decoder's result)

decode takes the raw advertising data (AD structures: length, type, data) as
nRF Connect or btmon show it, or with --uuid the service data of that 16-bit
UUID (fcd2 BTHome, 181a ATC/pvvx) and with --manufacturer the manufacturer
data after the 2-byte company id (0499 Ruuvi). It prints every decoded field,
or why the payload was refused (exit 1).
  --key HEX       the device's 16-byte bindkey (encrypted BTHome, pvvx, ATC)
  --address MAC   the device's address (part of the decryption nonce)`;

export interface ScannedDevice {
  address: string;
  rssi: number;
  name?: string;
  format?: string;
  values?: Record<string, number>;
  error?: string;
  advertisements: number;
  lastSeen: number;
}

export interface BleCommandDeps {
  createRadio(hci: number, clock: Clock): Promise<BleRadio>;
  clock: Clock;
}

const defaultDeps: BleCommandDeps = {
  createRadio: (hci, clock) => createNobleRadio({ hci, clock }),
  clock: systemClock,
};

/** Listen for `ms` and collect one entry per address, with the newest decodable payload. */
export async function scanDevices(radio: BleRadio, clock: Clock, ms: number): Promise<ScannedDevice[]> {
  const seen = new Map<string, ScannedDevice>();
  const onAdv = (adv: Advertisement) => {
    const d = seen.get(adv.address) ?? { address: adv.address, rssi: adv.rssi, advertisements: 0, lastSeen: adv.ts };
    d.rssi = adv.rssi;
    d.lastSeen = adv.ts;
    d.advertisements++;
    d.name = adv.localName ?? d.name;
    const r = decodeAdvertisement(adv, 'auto');
    if (r.ok) {
      d.format = r.format;
      d.values = r.values as Record<string, number>;
      d.error = undefined;
    } else if (r.kind !== 'absent' && !d.values) d.error = r.error;
    seen.set(adv.address, d);
  };
  const off = radio.onAdvertisement(onAdv);
  try {
    await radio.startScanning();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    await radio.stopScanning();
  } finally {
    off();
  }
  return [...seen.values()].sort((a, b) => b.rssi - a.rssi || a.address.localeCompare(b.address));
}

function valuesText(d: ScannedDevice): string {
  if (d.values) return Object.entries(d.values).map(([k, v]) => `${k}=${v}`).join(' ');
  return d.error ? `(${d.error})` : '';
}

/** Longest payload accepted: an extended advertisement's data (1650 bytes, Core 5.x). */
const MAX_ADV_BYTES = 1650;

function hexBytes(text: string, what: string): Buffer {
  const t = text.replace(/[\s:-]/g, '').replace(/^0x/i, '');
  if (t.length > MAX_ADV_BYTES * 2) throw new UsageError(`${what} is at most ${MAX_ADV_BYTES} bytes, got ${Math.floor(t.length / 2)}`);
  if (t.length === 0 || t.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(t)) throw new UsageError(`${what} must be hexadecimal bytes (e.g. 0201060f16d2fc40...), got "${text.slice(0, 40)}"`);
  return Buffer.from(t, 'hex');
}

/** Raw advertising data → the parts the decoders read; a malformed structure is a refusal. */
function parseAdStructures(data: Buffer, adv: Advertisement): DecodeResult | undefined {
  for (let at = 0; at < data.length; ) {
    const len = data[at];
    if (len === 0) break; // the rest is padding
    if (at + 1 + len > data.length) return { ok: false, kind: 'truncated', error: `AD structure at byte ${at} says ${len} bytes, only ${data.length - at - 1} follow` };
    const type = data[at + 1];
    const body = data.subarray(at + 2, at + 1 + len);
    if (type === 0x16 && body.length >= 2) adv.serviceData.push({ uuid: body.readUInt16LE(0).toString(16).padStart(4, '0'), data: Buffer.from(body.subarray(2)) });
    else if (type === 0xff) adv.manufacturerData = Buffer.from(body);
    else if (type === 0x08 || type === 0x09) adv.localName = body.toString('utf8');
    at += 1 + len;
  }
  return undefined;
}

function decodeText(r: DecodeResult): string {
  if (!r.ok) return `refused (${r.kind}): ${r.error}\n`;
  const lines = [`format: ${r.format}${r.encrypted ? ' (encrypted)' : ''}`, ...Object.entries(r.values).map(([k, v]) => `${k}: ${v}`)];
  for (const [k, all] of Object.entries(r.repeated ?? {})) lines.push(`${k} (every value, in frame order): ${all.join(', ')}`);
  const v = r.values;
  if (r.sequence !== undefined && v.packetId === undefined && v.sequence === undefined && v.count === undefined) lines.push(`sequence: ${r.sequence}`);
  if (r.mac) lines.push(`mac: ${r.mac}`);
  if (r.warning) lines.push(`warning: ${r.warning}`);
  return lines.join('\n') + '\n';
}

function runDecode(positionals: string[], values: { uuid?: string; manufacturer?: string; key?: string; address?: string; json?: boolean }, io: Parameters<CommandModule['run']>[1]): number {
  if (positionals.length !== 1) throw new UsageError('ble decode takes one HEX payload');
  if (values.uuid !== undefined && values.manufacturer !== undefined) throw new UsageError('give either --uuid or --manufacturer, not both');
  const bindkey = values.key !== undefined ? hexBytes(values.key, '--key') : undefined;
  if (bindkey && bindkey.length !== 16) throw new UsageError('--key must be 32 hex digits (16 bytes)');
  const address = values.address?.toLowerCase().replace(/-/g, ':');
  if (address !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(address)) throw new UsageError('--address must be a MAC address such as A4:C1:38:12:34:56');
  const data = hexBytes(positionals[0], 'HEX');
  const adv: Advertisement = { address: address ?? '00:00:00:00:00:00', rssi: 0, serviceData: [], ts: 0 };
  let refused: DecodeResult | undefined;
  if (values.uuid !== undefined) {
    if (!/^[0-9a-fA-F]{4}$/.test(values.uuid)) throw new UsageError('--uuid must be a 16-bit UUID such as fcd2 or 181a');
    adv.serviceData.push({ uuid: values.uuid.toLowerCase(), data });
  } else if (values.manufacturer !== undefined) {
    if (!/^(0x)?[0-9a-fA-F]{4}$/.test(values.manufacturer)) throw new UsageError('--manufacturer must be a 16-bit company id such as 0499');
    const id = Buffer.alloc(2);
    id.writeUInt16LE(parseInt(values.manufacturer.replace(/^0x/i, ''), 16));
    adv.manufacturerData = Buffer.concat([id, data]);
  } else refused = parseAdStructures(data, adv);
  const r = refused ?? decodeAdvertisement(adv, 'auto', { bindkey });
  io.out(values.json ? JSON.stringify(r, null, 2) + '\n' : decodeText(r));
  return r.ok ? EXIT.OK : EXIT.FAIL;
}

export function makeBleCommand(deps: BleCommandDeps = defaultDeps): CommandModule {
  return {
    summary: 'scan for nearby BLE sensors and show decoded values and RSSI',
    usage,
    async run(argv, io) {
      if (wantsHelp(argv)) {
        io.out(usage + '\n');
        return EXIT.OK;
      }
      const parsed = parseCommandArgs(argv, {
        seconds: { type: 'string' },
        hci: { type: 'string' },
        json: { type: 'boolean' },
        uuid: { type: 'string' },
        manufacturer: { type: 'string' },
        key: { type: 'string' },
        address: { type: 'string' },
      });
      const [sub, ...rest] = parsed.positionals;
      if (sub === 'decode') return runDecode(rest, parsed.values, io);
      if (sub !== 'scan') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
      if (rest.length > 0) throw new UsageError('ble scan takes no arguments');
      const seconds = Number(parsed.values.seconds ?? '10');
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new UsageError('--seconds must be a number of seconds from 0 to 3600');
      const hci = Number(parsed.values.hci ?? '0');
      if (!Number.isInteger(hci) || hci < 0) throw new UsageError('--hci must be an adapter index (0 for hci0)');

      let radio: BleRadio;
      try {
        radio = await deps.createRadio(hci, deps.clock);
      } catch (err) {
        if (!(err instanceof DriverUnavailableError)) throw err;
        io.err(`fieldgate ble: Bluetooth unavailable: ${err.message}\n${err.fix ? `fix: ${err.fix}\n` : ''}`);
        return EXIT.FAIL;
      }
      let devices: ScannedDevice[];
      try {
        if (!parsed.values.json) io.err(`scanning for ${seconds}s on hci${hci}...\n`);
        devices = await scanDevices(radio, deps.clock, seconds * 1000);
      } finally {
        await radio.close();
      }
      if (parsed.values.json) {
        io.out(JSON.stringify(devices, null, 2) + '\n');
        return EXIT.OK;
      }
      if (devices.length === 0) {
        io.out('no BLE devices heard\n');
        return EXIT.OK;
      }
      const rows = devices.map((d) => [d.address, String(d.rssi), d.name ?? '', d.format ?? '', valuesText(d)]);
      io.out(table(['ADDRESS', 'RSSI', 'NAME', 'FORMAT', 'VALUES'], rows, { align: ['left', 'right'], colour: io.isTTY }));
      return EXIT.OK;
    },
  };
}

export const bleCommand = makeBleCommand();
