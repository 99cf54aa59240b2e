import * as fs from 'node:fs';
import * as path from 'node:path';

function readVersion(): string {
  // Works from src/ (tsx) and dist/src/ (compiled): walk up to the package.json.
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

export const VERSION = readVersion();
