import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { writeFileAtomic } from '../core/atomic-file';
import { errorMessage, type Logger } from '../core/logger';

/**
 * The last rule set the daemon accepted, kept in the state directory so that a
 * broken edit left on disk cannot start the next boot without interlocks:
 *
 *   accepted set ──save()──► <state>/rules/last-known-good.json (atomic, fsynced)
 *   start-up, rules directory invalid ──load()──► the set that ran before
 *
 * One JSON document: when it was accepted, from which directory, and the text
 * of every file (the set is re-validated against the current config on load).
 */
export interface StoredRuleSet {
  /** When the daemon accepted this set (epoch ms). */
  acceptedAt: number;
  /** The rules directory it came from. */
  dir: string;
  files: { file: string; text: string }[];
}

/** Rule files are small; a stored set larger than this is not one we wrote. */
const MAX_BYTES = 8 * 1024 * 1024;

export class LastKnownGood {
  private savedHash?: string;

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The stored set, or undefined when there is none or it cannot be read (logged). */
  load(): StoredRuleSet | undefined {
    let text: string;
    try {
      const st = fs.statSync(this.file, { throwIfNoEntry: false });
      if (!st) return undefined;
      if (st.size > MAX_BYTES) throw new Error(`${st.size} bytes, more than ${MAX_BYTES}`);
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      this.log.warn('cannot read the last-known-good rule set', { file: this.file, err: errorMessage(err) });
      return undefined;
    }
    const set = parseStored(text);
    if (!set) {
      this.log.warn('the last-known-good rule set is corrupt; ignored', { file: this.file });
      return undefined;
    }
    this.savedHash = hashOf(set.files);
    return set;
  }

  /** Keep `set` as the last known good one; a set equal to the stored one is not rewritten. */
  save(set: StoredRuleSet): void {
    const hash = hashOf(set.files);
    if (hash === this.savedHash) return;
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: 1, ...set }));
      this.savedHash = hash;
    } catch (err) {
      this.log.error('cannot save the accepted rule set as last-known-good', { file: this.file, err: errorMessage(err) });
    }
  }
}

function hashOf(files: StoredRuleSet['files']): string {
  const h = createHash('sha256');
  for (const f of files) h.update(f.file).update('\0').update(f.text).update('\0');
  return h.digest('hex');
}

function parseStored(text: string): StoredRuleSet | undefined {
  try {
    const v = JSON.parse(text) as Partial<StoredRuleSet> & { version?: number };
    if (v.version !== 1 || typeof v.acceptedAt !== 'number' || typeof v.dir !== 'string' || !Array.isArray(v.files)) return undefined;
    const files = v.files.filter((f): f is { file: string; text: string } => typeof f?.file === 'string' && typeof f?.text === 'string');
    if (files.length !== v.files.length) return undefined;
    return { acceptedAt: v.acceptedAt, dir: v.dir, files };
  } catch {
    return undefined;
  }
}
