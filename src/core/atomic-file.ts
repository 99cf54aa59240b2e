import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Replace `file` with `data` so that a power cut leaves either the old or the new
 * content, never a torn file: write a temp file beside it, fsync, rename.
 */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
