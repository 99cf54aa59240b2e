import type { SensorRow } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatAge, formatValue, table, type Colour } from './format';

const usage = `Usage: fieldgate sensors [--json] [--socket PATH]

Every sensor's latest cleaned value: id, value, unit, quality, age, driver, error
count. On a terminal, stale rows are yellow and bad-quality rows red.

${COMMON_OPTIONS_USAGE}`;

function rowColour(r: SensorRow): Colour | undefined {
  if (r.quality === 'bad') return 'red';
  if (r.stale) return 'yellow';
  return undefined;
}

export function renderSensors(rows: SensorRow[], colour: boolean): string {
  if (rows.length === 0) return 'no sensors configured\n';
  return table(
    ['SENSOR', 'VALUE', 'UNIT', 'QUALITY', 'AGE', 'DRIVER', 'ERRORS', 'LAST ERROR'],
    rows.map((r) => [
      r.id,
      formatValue(r.value),
      r.unit ?? '',
      r.quality ?? '-',
      formatAge(r.ageMs) + (r.stale ? ' (stale)' : ''),
      r.driver,
      String(r.errors),
      r.lastError ?? '',
    ]),
    { align: ['left', 'right', 'left', 'left', 'right', 'left', 'right', 'left'], colour, rowColour: (i) => rowColour(rows[i]) },
  );
}

export const sensorsCommand = daemonCommand({
  name: 'sensors',
  summary: 'table of every sensor: value, unit, quality, age, driver, errors',
  usage,
  async run(args, io) {
    const rows = (await controlRequest(args.socketPath, 'sensors')) as SensorRow[];
    if (args.json) printJson(io, rows);
    else io.out(renderSensors(rows, io.isTTY));
    return EXIT.OK;
  },
});
