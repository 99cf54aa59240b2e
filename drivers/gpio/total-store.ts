import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/core/atomic-file';

const FILE = 'counter-totals.json';

interface TotalsFile {
  version: 1;
  /** Counter input id (the pulse input, not its total sensor) → running total in factor units. */
  totals: Record<string, number>;
}

/**
 * Persisted pulse totals in the driver's state directory. Writes are atomic
 * (temp file, fsync, rename) so a power cut leaves either the old or the new
 * file, never a torn one. The caller throttles writes (SD card wear).
 */
export class TotalStore {
  readonly file: string;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, FILE);
  }

  /** Totals saved before; {} when there is no file yet. Throws on a corrupt file, naming it. */
  load(): Record<string, number> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new Error(`${this.file}: not valid JSON (${(err as Error).message})`);
    }
    const totals = (data as Partial<TotalsFile> | null)?.totals;
    if (!totals || typeof totals !== 'object') throw new Error(`${this.file}: missing "totals" object`);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(totals)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${this.file}: total of "${k}" is not a number`);
      out[k] = v;
    }
    return out;
  }

  save(totals: Record<string, number>): void {
    const data: TotalsFile = { version: 1, totals };
    writeFileAtomic(this.file, JSON.stringify(data) + '\n');
  }
}
