import type { ActuatorStatus } from '../arbiter/arbiter';
import type { DriverRow, StatusSnapshot } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatAge, formatBytes, formatTime, formatValue, keyValues, paint, table, type Colour } from './format';

const usage = `Usage: fieldgate status [--json] [--socket PATH]

Whole-gateway health from the running daemon: its level — OK, DEGRADED (works
with something missing: a driver or link down, a device failing, a sensor stale
or bad, a failsafe applied, the uplink not delivering, the outbox evicting,
rules rejected) or FAILED (a control function is lost: no rules can run, or an
actuator write keeps failing) — with each problem; drivers
and their devices, actuators, uplink, outbox, rules, last errors.

${COMMON_OPTIONS_USAGE}

Exit status: 0 ok, 1 degraded, 4 failed (problems are listed), 3 daemon not running.`;

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

/** The level of a snapshot (older daemons only say healthy or not). */
export function levelOf(s: StatusSnapshot): 'ok' | 'degraded' | 'failed' {
  return s.level ?? (s.healthy ? 'ok' : 'degraded');
}

const LEVEL_WORD = { ok: ['OK', 'green'], degraded: ['DEGRADED', 'yellow'], failed: ['FAILED', 'red'] } as const;

/** One line per device a driver reports (Modbus units, ...): name, status, last error. */
function deviceRows(drivers: DriverRow[]): string[][] {
  const rows: string[][] = [];
  for (const d of drivers) {
    const devices = d.detail?.devices;
    if (!devices || typeof devices !== 'object') continue;
    for (const [name, dev] of Object.entries(devices as Record<string, { status?: string; lastError?: string }>)) {
      rows.push([`${d.id}/${name}`, dev?.status ?? '-', dev?.lastError ?? '']);
    }
  }
  return rows;
}

export function renderStatus(s: StatusSnapshot, colour: boolean): string {
  const level = levelOf(s);
  const health = paint(LEVEL_WORD[level][0], LEVEL_WORD[level][1], colour);
  const out: string[] = [];
  out.push(`fieldgate ${s.version}  gateway ${s.gateway}  up ${uptime(s.uptimeS)}  ${health}\n`);
  if (s.issues) for (const i of s.issues) out.push(paint(`  ${i.level === 'failed' ? '!!' : '!'} ${i.message}`, i.level === 'failed' ? 'red' : 'yellow', colour) + '\n');
  else for (const p of s.problems) out.push(paint(`  ! ${p}`, 'red', colour) + '\n');
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
    const devices = deviceRows(s.drivers);
    if (devices.length > 0) {
      out.push('\nDevices\n');
      out.push(table(['DEVICE', 'STATUS', 'LAST ERROR'], devices, { colour, rowColour: (i) => (devices[i][1] === 'ok' ? undefined : 'yellow'), indent: '  ' }));
    }
  }
  const actuators = actuatorsOf(s);
  if (actuators.length > 0) out.push('\nActuators\n' + renderActuators(actuators, colour));
  const o = s.outbox;
  out.push('\n');
  out.push(
    keyValues([
      ['Uplink', uplinkLine(s.uplink)],
      ...(s.config ? [['Config', `${s.config.source === 'local' ? 'local file' : s.config.source === 'deploy' ? `deployed version ${s.config.version}` : `deployed version ${s.config.version}, waiting for confirmation`}, sha256 ${s.config.hash.slice(0, 12)}`] as [string, string]] : []),
      ['Outbox', `depth ${o.depth}, oldest ${formatAge(o.oldestAgeMs)}, evicted ${o.evicted}, disk ${formatBytes(o.bytes)}`],
      [
        'Rules',
        `${s.rules.loaded} loaded, ${s.rules.active} active` +
          (s.rules.lastReloadError ? `, last reload failed: ${s.rules.lastReloadError}` : '') +
          rulesOrigin(s.rules),
      ],
    ]),
  );
  out.push('\nLast errors\n');
  if (s.lastErrors.length === 0) out.push('  none\n');
  else out.push(table(['TIME', 'COMPONENT', 'MESSAGE'], s.lastErrors.map((e) => [formatTime(e.ts), e.component, e.message]), { indent: '  ' }));
  return out.join('');
}

/** Where the running rules come from: local files, a deployed version, or a local edit over one. */
function rulesOrigin(r: StatusSnapshot['rules']): string {
  if (!r.source || !r.hash) return '';
  const hash = `sha256 ${r.hash.slice(0, 12)}`;
  const version = `version ${r.version}${r.label ? ` "${r.label}"` : ''}`;
  if (r.source === 'local') return `; local files, ${hash}`;
  if (r.source === 'deploy') return `; deployed ${version}, ${hash}`;
  const d = r.drift;
  const what = d ? [...d.changed.map((f) => `${f} changed`), ...d.added.map((f) => `${f} added`), ...d.removed.map((f) => `${f} removed`)].join(', ') : '';
  return `; LOCAL EDIT over deployed ${version} (${what}), ${hash}`;
}

export const statusCommand = daemonCommand({
  name: 'status',
  summary: 'gateway health from the running daemon: ok / degraded / failed (exit 0 / 1 / 4)',
  usage,
  async run(args, io) {
    const s = (await controlRequest(args.socketPath, 'status')) as StatusSnapshot;
    if (args.json) printJson(io, s);
    else io.out(renderStatus(s, io.isTTY));
    const level = levelOf(s);
    return level === 'ok' ? EXIT.OK : level === 'degraded' ? EXIT.FAIL : EXIT.HEALTH_FAILED;
  },
});
