import type { CommandResultView } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT, UsageError } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatValue } from './format';

const usage = `Usage: fieldgate actuate ACTUATOR VALUE [--json] [--socket PATH]
       fieldgate actuate ACTUATOR --release [--json] [--socket PATH]

Sets an actuator through the arbiter as a local hold (owner "local:..."):
interlocks, min on/off times and rate limits apply. The local hold outranks
cloud commands (unless the actuator sets cloudOverridesLocal: true) and stays
until --release drops it; the cloud cannot release it. VALUE is parsed as JSON
when it can be (42, 1.5, true, false), else taken as a string (on, off).

Waits for the driver's answer: "applied" once the write is acknowledged,
"pending" while a min on/off time or rate limit defers it (it is written
later), "failed" when the driver refused it.

  --release        drop the local hold; the rules (or a cloud command) decide again
${COMMON_OPTIONS_USAGE}

Exit status: 0 applied, released or pending; 1 rejected or failed.`;

/** "42" → 42, "true" → true, "on" → "on". */
export function parseActuatorValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // not JSON: a plain word such as "on" is meant as a string
  }
}

export const actuateCommand = daemonCommand({
  name: 'actuate',
  summary: 'set an actuator (a local hold) through the arbiter, or --release it',
  usage,
  options: { release: { type: 'boolean' } },
  arity: { min: 1, max: 2, message: 'actuate takes ACTUATOR and VALUE, or ACTUATOR --release' },
  async run(args, io) {
    const [actuator, text] = args.positionals;
    const release = args.values.release === true;
    if (release === (text !== undefined)) throw new UsageError(release ? '--release takes no VALUE' : 'actuate takes ACTUATOR and VALUE, or ACTUATOR --release');
    const value = release ? undefined : parseActuatorValue(text);
    const r = (await controlRequest(args.socketPath, 'actuate', { actuator, value, release }, 30_000)) as CommandResultView;
    if (args.json) printJson(io, r);
    else io.out(`${describe(actuator, value, r, release)} (command ${r.id})\n`);
    return r.ok === true || r.status === 'pending' ? EXIT.OK : EXIT.FAIL;
  },
});

function describe(actuator: string, value: unknown, r: CommandResultView, release: boolean): string {
  const owner = r.owner ? `; held by ${r.owner}` : '';
  if (release && r.ok) return `${actuator}: local hold released, now ${formatValue(r.applied)}${owner}`;
  if (r.status === 'pending') return `${actuator} = ${formatValue(value)}: pending: ${r.error ?? 'deferred'}`;
  if (r.ok) return `${actuator} = ${formatValue(r.applied ?? value)}: applied${owner}`;
  const what = r.status === 'failed' ? 'failed' : r.status === 'superseded' ? 'not applied' : 'rejected';
  return `${release ? `${actuator}: release` : `${actuator} = ${formatValue(value)}`}: ${what}: ${r.error ?? 'no reason given'}`;
}
