import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A fresh temp directory removed after the test. `mode` (e.g. 0o755) opens it to
 * other users, for sockets a test reaches as another user.
 */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'fg-', mode?: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (mode !== undefined) fs.chmodSync(dir, mode);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
