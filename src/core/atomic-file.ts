import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * State files are readable by the daemon and its group (the CLI's users), never by
 * everyone, whatever the umask of whoever started the daemon (0644 by hand otherwise).
 */
export const STATE_FILE_MODE = 0o640;
/** The state directory and those below it: the daemon writes, its group reads (UMask=0027 in the unit). */
export const STATE_DIR_MODE = 0o750;

/**
 * Replace `file` with `data` so that a power cut leaves either the old or the new
 * content, never a torn file: write a temp file beside it, fsync, rename, fsync the
 * directory. The file gets exactly `mode` (not the umask's choice). No symlink is
 * followed: a link planted at the temp name is removed, not written through
 * (O_EXCL | O_NOFOLLOW), and rename(2) replaces a link at `file` instead of its target.
 */
export function writeFileAtomic(file: string, data: string, mode = STATE_FILE_MODE): void {
  const dir = path.dirname(file);
  const tmp = `${file}.tmp`;
  fs.mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  // A temp file left by a crash (or anything else at that name) is only unlinked.
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  try {
    fs.fchmodSync(fd, mode); // open(2) applied the umask to `mode`
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  syncDir(dir);
}

/** fsync a directory so a rename in it survives a power cut. */
function syncDir(dir: string): void {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Create `file` with exactly `mode` if it does not exist (a database SQLite will
 * open: SQLite creates its -wal and -shm files with the main file's mode). An
 * existing file keeps its mode; a symlink at `file` is refused.
 */
export function ensureFileMode(file: string, mode = STATE_FILE_MODE): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (fs.lstatSync(file).isSymbolicLink()) throw new Error(`${file} is a symbolic link; refusing to use it as a state file`);
    return;
  }
  try {
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
}
