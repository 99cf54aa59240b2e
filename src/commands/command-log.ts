import * as fs from 'node:fs';
import { errorMessage, type Logger } from '../core/logger';
import type { CommandResult } from './commands';
import { writeFileAtomic } from '../core/atomic-file';

/**
 * Results of recent commands by actuator and id, so a redelivered command
 * (QoS1, or a retry after a reconnect) is answered again without being applied
 * twice. A bounded LRU (default 1000 ids); with `file`, saved after every new
 * result (write to a temp file, then rename: atomic on POSIX) and read back at
 * start, so a retry after a daemon restart is recognised too.
 */
export interface CommandLogOptions {
  capacity?: number;
  /** JSON file in the state directory, e.g. /var/lib/fieldgate/commands.json. */
  file?: string;
  log: Logger;
}

export class CommandLog {
  private readonly entries = new Map<string, CommandResult>();
  private readonly capacity: number;
  saveErrors = 0;

  constructor(private readonly opts: CommandLogOptions) {
    this.capacity = opts.capacity ?? 1000;
    if (opts.file) this.read(opts.file);
  }

  get(actuator: string, id: string): CommandResult | undefined {
    return this.entries.get(key(actuator, id));
  }

  remember(actuator: string, result: CommandResult): void {
    const k = key(actuator, result.id);
    this.entries.delete(k);
    this.entries.set(k, result);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    if (this.opts.file) this.save(this.opts.file);
  }

  get size(): number {
    return this.entries.size;
  }

  private read(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.log.warn('cannot read the command log; starting empty', { file, err: errorMessage(err) });
      return;
    }
    try {
      const rows = JSON.parse(text) as unknown;
      if (!Array.isArray(rows)) throw new Error('not a JSON array');
      for (const row of rows) {
        if (Array.isArray(row) && typeof row[0] === 'string' && row[1] && typeof row[1] === 'object') this.entries.set(row[0], row[1] as CommandResult);
      }
    } catch (err) {
      this.opts.log.warn('command log is corrupt; starting empty', { file, err: errorMessage(err) });
    }
  }

  private save(file: string): void {
    try {
      writeFileAtomic(file, JSON.stringify([...this.entries]));
    } catch (err) {
      this.saveErrors++;
      if (this.saveErrors === 1) this.opts.log.error('cannot save the command log (duplicates after a restart may be re-applied)', { file, err: errorMessage(err) });
    }
  }
}

function key(actuator: string, id: string): string {
  return `${actuator}\u0000${id}`;
}
