import type { LogLevel } from './logger';

/**
 * The last log lines in memory, for `req/logs`: an engineer or operator asks
 * the gateway for what it said recently without a shell on it. Fixed size; a
 * line longer than MAX_LINE is cut. Pushing is one array store (no I/O).
 */
const MAX_LINE = 4096;
const RANK: Record<Exclude<LogLevel, 'silent'>, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class LogRing {
  private readonly lines: (string | undefined)[];
  private readonly levels: number[];
  private next = 0;

  constructor(readonly capacity = 500) {
    this.lines = new Array<string | undefined>(capacity);
    this.levels = new Array<number>(capacity).fill(0);
  }

  push(level: Exclude<LogLevel, 'silent'>, line: string): void {
    const i = this.next % this.capacity;
    this.lines[i] = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
    this.levels[i] = RANK[level];
    this.next++;
  }

  /** The newest `count` lines at `minLevel` or above, oldest first, at most `maxBytes` in all (the newest kept). */
  tail(count: number, minLevel: Exclude<LogLevel, 'silent'> = 'debug', maxBytes = 32 * 1024): { lines: string[]; truncated: boolean } {
    const out: string[] = [];
    let bytes = 0;
    let truncated = false;
    const min = RANK[minLevel];
    for (let k = 1; k <= Math.min(this.next, this.capacity) && out.length < count; k++) {
      const i = (this.next - k) % this.capacity;
      if (this.levels[i] < min) continue;
      const line = this.lines[i] as string;
      if (bytes + line.length > maxBytes) {
        truncated = true;
        break;
      }
      bytes += line.length;
      out.push(line);
    }
    return { lines: out.reverse(), truncated };
  }
}
