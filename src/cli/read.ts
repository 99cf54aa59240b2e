import type { StageTrace } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT, UsageError } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatTime, formatValue, table } from './format';
import { parseDuration } from '../core/duration';

const usage = `Usage: fieldgate read SENSOR [--timeout DURATION] [--json] [--socket PATH]

Waits for the next raw sample of SENSOR and shows its value after each pipeline
stage, so you see what range/linearize/compensate/... did to it.

  --timeout DURATION  how long to wait for the sample (default 10s; e.g. 500ms, 30s, 2m)
${COMMON_OPTIONS_USAGE}`;

export function renderTrace(t: StageTrace): string {
  const rows: string[][] = [['raw', formatValue(t.raw.value), t.raw.quality]];
  for (const s of t.stages) rows.push([s.stage, s.dropped ? '(dropped)' : formatValue(s.value), s.dropped ? '' : (s.quality ?? '')]);
  rows.push(['output', t.output ? formatValue(t.output.value) : '(none: dropped)', t.output?.quality ?? '']);
  return `${t.sensor} at ${formatTime(t.ts)}\n` + table(['STAGE', 'VALUE', 'QUALITY'], rows, { align: ['left', 'right', 'left'] });
}

export const readCommand = daemonCommand({
  name: 'read',
  summary: 'a fresh reading of one sensor, with the value after each pipeline stage',
  usage,
  options: { timeout: { type: 'string' } },
  arity: { min: 1, max: 1, message: 'read takes exactly one SENSOR' },
  async run(args, io) {
    const timeoutMs = parseDuration(String(args.values.timeout ?? '10s'));
    if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError('--timeout expects a duration such as 500ms, 10s or 2m');
    const params = { sensor: args.positionals[0], timeoutMs };
    const t = (await controlRequest(args.socketPath, 'read', params, timeoutMs + 2000)) as StageTrace;
    if (args.json) printJson(io, t);
    else io.out(renderTrace(t));
    return EXIT.OK;
  },
});
