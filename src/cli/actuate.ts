import type { CommandResultView } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatValue } from './format';

const usage = `Usage: fieldgate actuate ACTUATOR VALUE [--json] [--socket PATH]

Sets an actuator through the arbiter, exactly like a cloud command (source
"local"): priorities, interlocks, min on/off times and rate limits apply.
VALUE is parsed as JSON when it can be (42, 1.5, true, false, null), else taken
as a string (on, off, open).

${COMMON_OPTIONS_USAGE}

Exit status: 0 applied, 1 rejected by the arbiter or the actuator.`;

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
  summary: 'set an actuator through the arbiter and print the result',
  usage,
  arity: { min: 2, max: 2, message: 'actuate takes ACTUATOR and VALUE' },
  async run(args, io) {
    const [actuator, text] = args.positionals;
    const value = parseActuatorValue(text);
    const r = (await controlRequest(args.socketPath, 'actuate', { actuator, value }, 30_000)) as CommandResultView;
    if (args.json) printJson(io, r);
    else if (r.ok) io.out(`${actuator} = ${formatValue(r.applied ?? value)}: applied (command ${r.id})\n`);
    else io.out(`${actuator} = ${formatValue(value)}: rejected: ${r.error ?? 'no reason given'} (command ${r.id})\n`);
    return r.ok ? EXIT.OK : EXIT.FAIL;
  },
});
