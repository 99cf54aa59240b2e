/**
 * `passwordCommand`: a helper program that prints the broker password on its first line,
 * e.g. a short-lived token (a JWT for a VerneMQ-style JWT plugin, an Azure SAS, a GCP IoT
 * JWT). Run without a shell before every connection attempt, bounded in time and output;
 * what it prints is never logged.
 */
import { execFile } from 'node:child_process';

/** Output a helper may print, at most (a token is a few KiB). */
const MAX_OUTPUT = 64 * 1024;

export function runPasswordCommand(argv: readonly string[], timeoutMs: number): Promise<string> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: MAX_OUTPUT, encoding: 'utf8', windowsHide: true }, (err, stdout, stderr) => {
      if (err) {
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: unknown };
        const why = e.killed ? `no answer within ${timeoutMs} ms` : typeof e.code === 'number' ? `exit code ${e.code}` : String(e.code ?? e.message);
        const said = stderr.split(/\r?\n/)[0].slice(0, 200);
        reject(new Error(`uplink passwordCommand ${file} failed: ${why}${said ? ` (${said})` : ''}`));
        return;
      }
      const token = stdout.split(/\r?\n/)[0];
      if (!token) reject(new Error(`uplink passwordCommand ${file} printed nothing`));
      else resolve(token);
    });
  });
}
