import * as path from 'node:path';
import { listIioDevices, listVoltageChannels, readVoltageChannel, resolveIioDevice } from '../../drivers/adc/iio';
import { errorMessage } from '../core/logger';
import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CommandModule } from './command';

const usage = `Usage:
  fieldgate adc list                          list IIO devices and their voltage channels
  fieldgate adc read DEVICE CHANNEL           read one channel: raw counts, scale, offset, mV

Options:
  --samples N   read: average N raw reads (default 1)
  --json        machine-readable output

DEVICE is the IIO device name (ads1015, mcp3008, ...), name@parent for one of
several identical chips (ads1015@1-0048), its directory name (iio:device0) or
an absolute path; CHANNEL is M of in_voltageM_raw, or P-N for the differential
in_voltageP-voltageN_raw (e.g. 0-1).`;

export const adcCommand: CommandModule = {
  summary: 'list ADC channels or read one (Linux IIO)',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    const args = parseCommandArgs(argv, { samples: { type: 'string' }, json: { type: 'boolean' }, 'sysfs-root': { type: 'string' } });
    const sysfsRoot = args.values['sysfs-root'] ?? io.env.FIELDGATE_SYSFS_ROOT ?? '/sys';
    const json = args.values.json === true;
    const [sub, device, channelText, ...extra] = args.positionals;
    try {
      if (sub === 'list') {
        if (device !== undefined) throw new UsageError('list takes no arguments');
        const devices = listIioDevices(sysfsRoot).map((d) => ({ device: path.basename(d.dir), name: d.name, channels: listVoltageChannels(d.dir) }));
        if (json) io.out(JSON.stringify(devices, null, 2) + '\n');
        else if (devices.length === 0) io.out('no IIO devices\n');
        else for (const d of devices) io.out(`${d.device}  ${d.name || '(no name)'}  channels: ${d.channels.join(', ') || 'none'}\n`);
        return EXIT.OK;
      }
      if (sub !== 'read') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand: list or read');
      if (device === undefined || channelText === undefined || extra.length > 0) throw new UsageError('read takes DEVICE and CHANNEL');
      if (!/^\d+(-\d+)?$/.test(channelText)) throw new UsageError(`CHANNEL must be a number, or "P-N" for a differential channel, got "${channelText}"`);
      const channel = /^\d+$/.test(channelText) ? Number(channelText) : channelText;
      const samples = Number(args.values.samples ?? '1');
      if (!Number.isInteger(samples) || samples < 1 || samples > 1000) throw new UsageError('--samples must be an integer 1-1000');
      const dir = resolveIioDevice(sysfsRoot, device);
      const s = readVoltageChannel(dir, channel, samples);
      if (json) {
        io.out(JSON.stringify({ device: dir, channel, ...s, volts: s.millivolts / 1000 }) + '\n');
      } else {
        io.out(
          `${path.basename(dir)} (${device}) channel ${channelText}: raw ${s.raw}${samples > 1 ? ` (mean of ${samples})` : ''}, ` +
            `offset ${s.offset}, scale ${s.scale} mV/count → ${round(s.millivolts)} mV (${round(s.millivolts / 1000)} V)\n`,
        );
      }
      return EXIT.OK;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(`fieldgate adc: ${errorMessage(err)}\n`);
      return EXIT.FAIL;
    }
  },
};

function round(x: number): number {
  return Number(x.toPrecision(9));
}
