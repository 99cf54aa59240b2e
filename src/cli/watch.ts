/**
 * `fieldgate watch`: live readings from the daemon. On a terminal the view is
 * redrawn in place (value, age and a sparkline of recent history per sensor);
 * otherwise one line per reading (or one JSON object per line with --json).
 */
import { controlRequest, controlStream } from '../control/client';
import { systemClock, type Clock, type TimerHandle } from '../core/clock';
import type { SensorRow } from '../daemon/view';
import { EXIT, type CliIO } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand } from './daemon-views';
import { formatAge, formatTime, formatValue, sparkline, table } from './format';

const usage = `Usage: fieldgate watch [SENSOR...] [--json] [--socket PATH]

Live view of cleaned readings (all sensors, or the ones named). On a terminal:
current value, age and a sparkline of recent history per sensor, redrawn in place;
Ctrl-C quits. Piped: one line per reading (--json: one JSON object per line).

${COMMON_OPTIONS_USAGE}`;

interface WatchedReading {
  sensor: string;
  ts: number;
  value: number | string;
  quality: string;
}

interface SensorState {
  row: SensorRow;
  history: number[];
}

export interface WatchOptions {
  socketPath: string;
  sensors: string[];
  json: boolean;
  io: CliIO;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
  clock?: Clock;
  /** Points in each sparkline (default 30). */
  historyLength?: number;
  /** Minimum time between redraws on a terminal (default 200 ms). */
  redrawMs?: number;
}

const CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export function renderWatchFrame(states: SensorState[], now: number, colour: boolean): string {
  const rows = states.map((s) => [
    s.row.id,
    formatValue(s.row.value),
    s.row.unit ?? '',
    s.row.quality ?? '-',
    s.row.ts === undefined ? '-' : formatAge(now - s.row.ts),
    sparkline(s.history),
  ]);
  return (
    `fieldgate watch: ${states.length} sensor(s), Ctrl-C to quit\n\n` +
    table(['SENSOR', 'VALUE', 'UNIT', 'QUALITY', 'AGE', 'HISTORY'], rows, {
      align: ['left', 'right', 'left', 'left', 'right', 'left'],
      colour,
      rowColour: (i) => (states[i].row.quality === 'bad' ? 'red' : undefined),
    })
  );
}

export async function watchSensors(opts: WatchOptions): Promise<number> {
  const { io } = opts;
  const clock = opts.clock ?? systemClock;
  const historyLength = opts.historyLength ?? 30;
  const live = io.isTTY && !opts.json;
  const all = (await controlRequest(opts.socketPath, 'sensors')) as SensorRow[];
  const unknown = opts.sensors.filter((id) => !all.some((r) => r.id === id));
  if (unknown.length > 0) {
    io.err(`fieldgate watch: unknown sensor(s): ${unknown.join(', ')}\n`);
    return EXIT.FAIL;
  }
  const states = new Map<string, SensorState>();
  for (const row of all) {
    if (opts.sensors.length > 0 && !opts.sensors.includes(row.id)) continue;
    states.set(row.id, { row: { ...row }, history: typeof row.value === 'number' ? [row.value] : [] });
  }

  let redrawTimer: TimerHandle | undefined;
  const draw = () => {
    redrawTimer = undefined;
    io.out(CLEAR + renderWatchFrame([...states.values()], clock.now(), io.isTTY));
  };
  const scheduleDraw = () => {
    if (redrawTimer === undefined) redrawTimer = clock.setTimeout(draw, opts.redrawMs ?? 200);
  };

  const onEvent = (event: unknown) => {
    const r = event as WatchedReading;
    if (opts.json) return io.out(JSON.stringify(r) + '\n');
    if (!live) return io.out(`${formatTime(r.ts)}  ${r.sensor}  ${formatValue(r.value)}${unitOf(r.sensor)}  ${r.quality}\n`);
    const s = states.get(r.sensor);
    if (!s) return;
    Object.assign(s.row, { value: r.value, ts: r.ts, quality: r.quality });
    if (typeof r.value === 'number') {
      s.history.push(r.value);
      if (s.history.length > historyLength) s.history.splice(0, s.history.length - historyLength);
    }
    scheduleDraw();
  };
  const unitOf = (sensor: string) => {
    const unit = states.get(sensor)?.row.unit;
    return unit ? ` ${unit}` : '';
  };

  const stream = await controlStream(opts.socketPath, 'watch', { sensors: opts.sensors }, onEvent);
  const ageTicker = live ? clock.setInterval(scheduleDraw, 1000) : undefined;
  if (live) {
    io.out(HIDE_CURSOR);
    draw();
  }
  const aborted = new Promise<'aborted'>((resolve) => {
    if (opts.signal.aborted) resolve('aborted');
    else opts.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  try {
    const how = await Promise.race([aborted, stream.done.then(() => 'closed' as const)]);
    return how === 'aborted' ? EXIT.OK : EXIT.FAIL;
  } catch (err) {
    io.err(`\nfieldgate watch: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.FAIL;
  } finally {
    stream.close();
    clock.clearInterval(ageTicker);
    clock.clearTimeout(redrawTimer);
    if (live) io.out(SHOW_CURSOR + '\n');
  }
}

export const watchCommand = daemonCommand({
  name: 'watch',
  summary: 'live view of readings with a sparkline per sensor (Ctrl-C quits)',
  usage,
  arity: { min: 0, max: Infinity, message: '' },
  async run(args, io) {
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    try {
      return await watchSensors({ socketPath: args.socketPath, sensors: args.positionals, json: args.json, io, signal: abort.signal });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  },
});
