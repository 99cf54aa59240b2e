import * as fs from 'node:fs';
import * as path from 'node:path';

/** systemd/fieldgate.service in the checkout at `root`. */
export function unitFile(root: string): string {
  return path.join(root, 'systemd/fieldgate.service');
}

/**
 * NODE_OPTIONS and MALLOC_ARENA_MAX as the systemd unit sets them (its
 * Environment= lines), so benchmarks and tests run the daemon as installed.
 */
export function serviceEnvironment(root: string): Record<string, string> {
  const unit = fs.readFileSync(unitFile(root), 'utf8');
  const out: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?(NODE_OPTIONS|MALLOC_ARENA_MAX)=([^"\n]*)"?$/gm)) out[m[1]] = m[2];
  return out;
}
