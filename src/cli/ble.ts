import { decodeAdvertisement } from '../../drivers/ble/decoders';
import { createNobleRadio } from '../../drivers/ble/noble-radio';
import type { Advertisement, BleRadio } from '../../drivers/ble/radio';
import { DriverUnavailableError } from '../../drivers/driver';
import { systemClock, type Clock } from '../core/clock';
import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CommandModule } from './command';
import { table } from './format';

const usage = `Usage:
  fieldgate ble scan [--seconds N] [--hci N] [--json]   list nearby BLE devices with decoded values and RSSI

Scans with the local Bluetooth adapter directly (stop the daemon's BLE driver
first if the adapter cannot scan twice). Decodes BTHome v2, RuuviTag RAWv2 and
ATC1441/pvvx advertisements; other devices are listed with RSSI and name only.
  --seconds N   how long to listen (default 10)
  --hci N       adapter index (default 0 = hci0)
  --json        one JSON array instead of a table`;

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

export function makeBleCommand(deps: BleCommandDeps = defaultDeps): CommandModule {
  return {
    summary: 'scan for nearby BLE sensors and show decoded values and RSSI',
    usage,
    async run(argv, io) {
      if (wantsHelp(argv)) {
        io.out(usage + '\n');
        return EXIT.OK;
      }
      const parsed = parseCommandArgs(argv, { seconds: { type: 'string' }, hci: { type: 'string' }, json: { type: 'boolean' } });
      const [sub, ...rest] = parsed.positionals;
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
