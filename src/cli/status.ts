import type { ActuatorStatus } from '../arbiter/arbiter';
import type { DriverRow, StatusSnapshot } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatAge, formatBytes, formatTime, formatValue, keyValues, paint, table, type Colour } from './format';

const usage = `Usage: fieldgate status [--json] [--socket PATH]

Whole-gateway health from the running daemon: version, uptime, drivers and their
state, uplink state and broker, outbox, rules, last errors.

${COMMON_OPTIONS_USAGE}

Exit status: 0 healthy, 1 unhealthy (problems are listed), 3 daemon not running.`;

const DRIVER_COLOUR: Record<DriverRow['state'], Colour | undefined> = {
  starting: 'yellow',
  running: undefined,
  backoff: 'yellow',
  unavailable: 'red',
  stopped: 'dim',
};

function uptime(s: number): string {
  return formatAge(s * 1000);
}

/** Uplink fields shown first, in this order; any other scalar fields follow. */
const UPLINK_FIRST = ['state', 'broker'];

/** Uplink fields that hold epoch milliseconds (shown as UTC times, not raw numbers). */
const UPLINK_TIMES = new Set(['connectedSince']);

function uplinkLine(uplink: Record<string, unknown>): string {
  const keys = [...UPLINK_FIRST.filter((k) => k in uplink), ...Object.keys(uplink).filter((k) => !UPLINK_FIRST.includes(k))];
  const parts = keys
    // Unset fields (no broker yet, no error, not connected) say nothing: leave them out.
    .filter((k) => uplink[k] !== null && uplink[k] !== undefined && typeof uplink[k] !== 'object')
    .map((k) => `${k} ${UPLINK_TIMES.has(k) && typeof uplink[k] === 'number' ? formatTime(uplink[k]) : formatValue(uplink[k])}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

/** The arbiter's view of each actuator (absent from snapshots of older daemons). */
function actuatorsOf(s: StatusSnapshot): ActuatorStatus[] {
  return Array.isArray(s.actuators) ? s.actuators : [];
}

/** "false", or "false → true" while a change is deferred (min on/off) or its write is failing. */
function actuatorValue(a: ActuatorStatus): string {
  const now = formatValue(a.value);
  return a.wanted !== undefined && a.wanted !== a.value ? `${now} → ${formatValue(a.wanted)}` : now;
}

export function renderActuators(actuators: ActuatorStatus[], colour: boolean): string {
  return table(
    ['ID', 'VALUE', 'HELD BY', 'WRITES', 'ERRORS', 'LAST ERROR'],
    actuators.map((a) => [
      a.id,
      actuatorValue(a),
      a.owner ? `${a.owner} (${a.priority ?? '?'})` : '-',
      String(a.writes),
      String(a.errors),
      a.lastError ?? '',
    ]),
    { align: ['left', 'left', 'left', 'right', 'right', 'left'], colour, rowColour: (i) => (actuators[i].failing ? 'red' : undefined), indent: '  ' },
  );
}

export function renderStatus(s: StatusSnapshot, colour: boolean): string {
  const health = s.healthy ? paint('HEALTHY', 'green', colour) : paint('UNHEALTHY', 'red', colour);
  const out: string[] = [];
  out.push(`fieldgate ${s.version}  gateway ${s.gateway}  up ${uptime(s.uptimeS)}  ${health}\n`);
  for (const p of s.problems) out.push(paint(`  ! ${p}`, 'red', colour) + '\n');
  out.push('\nDrivers\n');
  if (s.drivers.length === 0) out.push('  none configured\n');
  else {
    out.push(
      table(
        ['ID', 'KIND', 'STATE', 'RESTARTS', 'ERRORS', 'LAST ERROR'],
        s.drivers.map((d) => [d.id, d.kind, d.state, String(d.restarts), String(d.errors), d.lastError ?? '']),
        {
          align: ['left', 'left', 'left', 'right', 'right', 'left'],
          colour,
          rowColour: (i) => DRIVER_COLOUR[s.drivers[i].state],
          indent: '  ',
        },
      ),
    );
    for (const d of s.drivers.filter((x) => x.fix)) out.push(`  ${d.id}: ${d.fix}\n`);
  }
  const actuators = actuatorsOf(s);
  if (actuators.length > 0) out.push('\nActuators\n' + renderActuators(actuators, colour));
  const o = s.outbox;
  out.push('\n');
  out.push(
    keyValues([
      ['Uplink', uplinkLine(s.uplink)],
      ['Outbox', `depth ${o.depth}, oldest ${formatAge(o.oldestAgeMs)}, evicted ${o.evicted}, disk ${formatBytes(o.bytes)}`],
      [
        'Rules',
        `${s.rules.loaded} loaded, ${s.rules.active} active` +
          (s.rules.lastReloadError ? `, last reload failed: ${s.rules.lastReloadError}` : ''),
      ],
    ]),
  );
  out.push('\nLast errors\n');
  if (s.lastErrors.length === 0) out.push('  none\n');
  else out.push(table(['TIME', 'COMPONENT', 'MESSAGE'], s.lastErrors.map((e) => [formatTime(e.ts), e.component, e.message]), { indent: '  ' }));
  return out.join('');
}

export const statusCommand = daemonCommand({
  name: 'status',
  summary: 'gateway health from the running daemon (exit 1 when unhealthy)',
  usage,
  async run(args, io) {
    const s = (await controlRequest(args.socketPath, 'status')) as StatusSnapshot;
    if (args.json) printJson(io, s);
    else io.out(renderStatus(s, io.isTTY));
    return s.healthy ? EXIT.OK : EXIT.FAIL;
  },
});
