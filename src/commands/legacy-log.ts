import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { MAX_ACTUATOR_NAME } from './bounds';
import { UNKNOWN_FINGERPRINT, type CommandLog } from './command-log';
import type { CommandResult } from './result';

/**
 * The command log of gateways before commands.db: `commands.json` in the state
 * directory, a JSON array of `["<actuator>\u0000<id>", {id, ok, error?, applied?, ts}]`
 * (an LRU of at most 1000 ids by default). Imported once at start so that a
 * retry of a pre-upgrade id is answered and not applied again, then renamed
 * `commands.json.migrated` (after the rows are on disk), so no later start
 * reads it again.
 *
 * Bounded before any work: a file over LEGACY_MAX_BYTES is not parsed, at most
 * LEGACY_MAX_ROWS rows are read, and rows the handler could never look up
 * (names or ids over the command bounds) or past the dedup window are skipped.
 * What an old id asked for was not kept, so any redelivery of it is answered
 * as a duplicate (never a conflict, never applied).
 */
export const LEGACY_MAX_BYTES = 4 * 1024 * 1024;
export const LEGACY_MAX_ROWS = 10_000;
const MAX_ID = 128;

export interface LegacyImport {
  imported: number;
  skipped: number;
  /** Why the file was not imported at all (it is set aside all the same). */
  error?: string;
}

export interface LegacyImportOptions {
  /** e.g. /var/lib/fieldgate/commands.json; nothing happens when it does not exist. */
  file: string;
  commandLog: CommandLog;
  clock: Clock;
  log: Logger;
}

export function importLegacyCommandLog(opts: LegacyImportOptions): LegacyImport {
  const { file, log } = opts;
  const name = path.basename(file);
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { imported: 0, skipped: 0 };
    return { imported: 0, skipped: 0, error: `cannot read ${name}: ${errorMessage(err)}` };
  }
  const res = size > LEGACY_MAX_BYTES ? { imported: 0, skipped: 0, error: `${name} is ${size} bytes (limit ${LEGACY_MAX_BYTES}); not imported` } : importRows(name, fs.readFileSync(file, 'utf8'), opts);
  if (res.imported > 0) {
    opts.commandLog.flush();
    if (opts.commandLog.saveErrors > 0) {
      log.error(`pre-upgrade command ids from ${name} could not be saved; kept for the next start`, { file });
      return { ...res, error: 'cannot save the imported ids to the command log' };
    }
  }
  try {
    fs.renameSync(file, `${file}.migrated`);
  } catch (err) {
    log.error(`cannot rename ${name} after importing it (it will be imported again at the next start)`, { file, err: errorMessage(err) });
  }
  if (res.error) log.error(`pre-upgrade command log not imported: ${res.error}; renamed ${name}.migrated`, { file });
  else log.info(`imported ${res.imported} pre-upgrade command ids from ${name} into the command log; renamed ${name}.migrated`, { file, imported: res.imported, skipped: res.skipped });
  return res;
}

function importRows(name: string, text: string, opts: LegacyImportOptions): LegacyImport {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (err) {
    return { imported: 0, skipped: 0, error: `${name} is not valid JSON: ${errorMessage(err)}` };
  }
  if (!Array.isArray(rows)) return { imported: 0, skipped: 0, error: `${name} is not a JSON array` };
  const now = opts.clock.now();
  const cutoff = now - opts.commandLog.window;
  let imported = 0;
  let skipped = Math.max(0, rows.length - LEGACY_MAX_ROWS);
  for (const row of rows.slice(-LEGACY_MAX_ROWS)) {
    const entry = legacyEntry(row);
    if (!entry || entry.result.ts < cutoff) {
      skipped++;
      continue;
    }
    opts.commandLog.remember(entry.actuator, entry.result.id, { firstSeen: Math.min(entry.result.ts, now), fingerprint: UNKNOWN_FINGERPRINT, result: entry.result });
    imported++;
  }
  return { imported, skipped };
}

/** One old row as the result it is answered with now, or undefined when it is not a well-formed row within the bounds. */
function legacyEntry(row: unknown): { actuator: string; result: CommandResult } | undefined {
  if (!Array.isArray(row) || row.length !== 2 || typeof row[0] !== 'string') return undefined;
  const [key, old] = row as [string, unknown];
  const cut = key.indexOf('\u0000');
  const actuator = key.slice(0, cut);
  const id = key.slice(cut + 1);
  if (cut <= 0 || actuator.length > MAX_ACTUATOR_NAME || id.length === 0 || id.length > MAX_ID) return undefined;
  if (old === null || typeof old !== 'object') return undefined;
  const r = old as Record<string, unknown>;
  if (r.id !== id || typeof r.ok !== 'boolean' || typeof r.ts !== 'number' || !Number.isFinite(r.ts)) return undefined;
  if (r.ok) {
    const result: CommandResult = { id, ok: true, status: 'applied', final: true, ts: r.ts };
    if (typeof r.applied === 'boolean' || typeof r.applied === 'number') result.applied = r.applied;
    return { actuator, result };
  }
  return { actuator, result: { id, ok: false, status: 'rejected', final: true, error: typeof r.error === 'string' ? r.error : 'rejected', ts: r.ts } };
}
