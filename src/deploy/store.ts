import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import { errorMessage, type Logger } from '../core/logger';
import type { BundleFile } from './bundle';

/**
 * What was deployed, in the state directory:
 *
 *   <state>/deploy/current.json          the running deploy: version, label, key, when, files' hashes
 *   <state>/deploy/versions/<v>.json     every applied bundle's texts; the newest `keep` are kept
 *
 * current.json is what makes versions monotonic across restarts: a bundle whose
 * version is not above it is refused.
 */
export interface DeployRecord {
  version: number;
  label: string;
  /** The pinned key file that verified it, or "unsigned". */
  key: string;
  appliedAt: number;
  files: { name: string; sha256: string }[];
}

export interface StoredVersion extends DeployRecord {
  rules: BundleFile[];
  config?: { text: string; sha256: string };
}

/** A deploy applied but not confirmed yet: what to put back if it is not confirmed by `confirmBy`. */
export interface PendingConfirm {
  /** The request id, for the final result. */
  id: string;
  version: number;
  mode: 'manual' | 'auto';
  windowMs: number;
  confirmBy: number;
  /** The deploy that ran before (undefined: local files). */
  previous?: DeployRecord;
  /** The rules directory's files before the deploy. */
  previousFiles: { name: string; text: string }[];
  /** A config deploy: the config file's text before it (put back, then a restart, on rollback). */
  previousConfig?: string;
}

/** A record is a few KiB; anything much larger was not written by us. */
const MAX_RECORD_BYTES = 1024 * 1024;

export class DeployStore {
  readonly dir: string;

  constructor(
    stateDir: string,
    private readonly keep: number,
    private readonly log: Logger,
  ) {
    this.dir = path.join(stateDir, 'deploy');
  }

  current(): DeployRecord | undefined {
    return this.read<DeployRecord>(path.join(this.dir, 'current.json'));
  }

  /** Keep the bundle's texts (before anything is applied), dropping versions past `keep`. */
  saveVersion(v: StoredVersion): void {
    const dir = path.join(this.dir, 'versions');
    writeFileAtomic(path.join(dir, `${v.version}.json`), JSON.stringify(v));
    const old = this.versions().slice(this.keep);
    for (const n of old) fs.rmSync(path.join(dir, `${n}.json`), { force: true });
  }

  /** The running deploy; undefined when rolled back to files that came from no deploy. */
  setCurrent(r: DeployRecord | undefined): void {
    const file = path.join(this.dir, 'current.json');
    if (r) writeFileAtomic(file, JSON.stringify(r));
    else fs.rmSync(file, { force: true });
  }

  pending(): PendingConfirm | undefined {
    return this.read<PendingConfirm>(path.join(this.dir, 'pending.json'));
  }

  setPending(p: PendingConfirm | undefined): void {
    const file = path.join(this.dir, 'pending.json');
    if (p) writeFileAtomic(file, JSON.stringify(p));
    else fs.rmSync(file, { force: true });
  }

  /** The config version confirmed last (its sha256 tells whether the file on disk is still it). */
  configRecord(): DeployRecord | undefined {
    return this.read<DeployRecord>(path.join(this.dir, 'config.json'));
  }

  setConfigRecord(r: DeployRecord): void {
    writeFileAtomic(path.join(this.dir, 'config.json'), JSON.stringify(r));
  }

  /** The newest version ever applied here (kept even after a rollback): versions only go up. */
  highest(): number | undefined {
    return Math.max(this.current()?.version ?? 0, this.versions()[0] ?? 0) || undefined;
  }

  /** Stored version numbers, newest first. */
  versions(): number[] {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(this.dir, 'versions'));
    } catch {
      return [];
    }
    return names
      .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => b - a);
  }

  /** A stored version's record (its texts left out), or undefined when it is not kept. */
  version(n: number): StoredVersion | undefined {
    return this.read<StoredVersion>(path.join(this.dir, 'versions', `${n}.json`));
  }

  private read<T>(file: string): T | undefined {
    try {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (!st) return undefined;
      if (st.size > MAX_RECORD_BYTES) throw new Error(`${st.size} bytes`);
      return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
    } catch (err) {
      // An unreadable record must not let an older bundle in: the caller treats a throw as a refusal.
      this.log.error('cannot read the deploy record', { file, err: errorMessage(err) });
      throw new Error(`cannot read ${file}: ${errorMessage(err)}`);
    }
  }
}
