import type { StatusSnapshot } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT, UsageError } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatValue, recordsTable } from './format';

const usage = `Usage:
  fieldgate zigbee devices                              devices joined to the coordinator
  fieldgate zigbee permit-join [--seconds N]            let new devices join for N seconds (default 60)
  fieldgate zigbee read DEVICE CLUSTER ATTRIBUTE        read one attribute from a device

  --driver ID      the zigbee driver to use (default: the only zigbee driver configured)
${COMMON_OPTIONS_USAGE}`;

/** The configured zigbee driver: --driver, or the only driver of kind zigbee. */
async function zigbeeDriverId(socketPath: string, explicit: string | undefined): Promise<string> {
  if (explicit) return explicit;
  const status = (await controlRequest(socketPath, 'status')) as StatusSnapshot;
  const ids = status.drivers.filter((d) => d.kind === 'zigbee').map((d) => d.id);
  if (ids.length === 1) return ids[0];
  if (ids.length === 0) throw new UsageError('no zigbee driver is configured in the running daemon');
  throw new UsageError(`several zigbee drivers are configured (${ids.join(', ')}); choose one with --driver ID`);
}

function renderResult(result: unknown): string {
  if (Array.isArray(result)) {
    if (result.length === 0) return 'none\n';
    if (result.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
      return recordsTable(result as Record<string, unknown>[]);
    }
  }
  if (result !== null && typeof result === 'object') return JSON.stringify(result, null, 2) + '\n';
  return formatValue(result) + '\n';
}

interface ZigbeeCall {
  op: 'devices' | 'permitJoin' | 'readAttribute';
  args: unknown[];
  describe: (driver: string, result: unknown) => string;
}

function plan(sub: string | undefined, rest: string[], seconds: string | undefined): ZigbeeCall {
  if (sub === 'devices') {
    if (rest.length > 0) throw new UsageError('zigbee devices takes no arguments');
    return { op: 'devices', args: [], describe: (_d, r) => renderResult(r) };
  }
  if (sub === 'permit-join') {
    if (rest.length > 0) throw new UsageError('zigbee permit-join takes no arguments (use --seconds N)');
    const n = Number(seconds ?? '60');
    if (!Number.isInteger(n) || n < 0 || n > 254) throw new UsageError('--seconds must be an integer from 0 (close) to 254');
    return {
      op: 'permitJoin',
      args: [n],
      // The driver returns the window it opened (capped at its permitJoinMax).
      describe: (d, r) => {
        const opened = typeof r === 'number' ? r : n;
        return opened === 0 ? `${d}: joining closed\n` : `${d}: joining permitted for ${opened}s\n`;
      },
    };
  }
  if (sub === 'read') {
    if (rest.length !== 3) throw new UsageError('zigbee read takes DEVICE CLUSTER ATTRIBUTE');
    const [device, cluster, attribute] = rest;
    return { op: 'readAttribute', args: [device, cluster, attribute], describe: (_d, r) => `${device} ${cluster}.${attribute} = ${renderResult(r)}` };
  }
  throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
}

export const zigbeeCommand = daemonCommand({
  name: 'zigbee',
  summary: 'zigbee devices, permit-join and attribute reads through the daemon',
  usage,
  options: { driver: { type: 'string' }, seconds: { type: 'string' } },
  arity: { min: 0, max: Infinity, message: '' },
  async run(args, io) {
    const [sub, ...rest] = args.positionals;
    const call = plan(sub, rest, args.values.seconds as string | undefined);
    const driver = await zigbeeDriverId(args.socketPath, args.values.driver as string | undefined);
    const result = await controlRequest(args.socketPath, 'driver', { driver, op: call.op, args: call.args }, 30_000);
    if (args.json) printJson(io, result);
    else io.out(call.describe(driver, result));
    return EXIT.OK;
  },
});
