import type { BufferStats } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatAge, formatBytes, formatTime, keyValues } from './format';

const usage = `Usage: fieldgate buffer [--json] [--socket PATH]

The store-and-forward outbox: readings waiting for the uplink, age of the oldest,
how many were evicted (disk bound reached) or rejected, size on disk.

${COMMON_OPTIONS_USAGE}`;

export function renderBuffer(b: BufferStats): string {
  return keyValues([
    ['Depth', `${b.depth} reading(s) in ${b.messages} message(s)`],
    ['Oldest', b.oldestTs === undefined ? '-' : `${formatAge(b.oldestAgeMs)} ago (${formatTime(b.oldestTs)})`],
    ['Evicted', String(b.evicted)],
    ['Rejected', String(b.rejected)],
    ['Disk', formatBytes(b.bytes)],
  ]);
}

export const bufferCommand = daemonCommand({
  name: 'buffer',
  summary: 'outbox depth, oldest age, evicted count, disk size',
  usage,
  async run(args, io) {
    const b = (await controlRequest(args.socketPath, 'buffer')) as BufferStats;
    if (args.json) printJson(io, b);
    else io.out(renderBuffer(b));
    return EXIT.OK;
  },
});
