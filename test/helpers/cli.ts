/** The `fieldgate` CLI as its own process, the way an engineer runs it (stdout is a pipe, not a terminal). */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const MAIN = path.join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without the FIELDGATE_* defaults of the machine running the tests. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('FIELDGATE_SOCKET' in extra)) delete env.FIELDGATE_SOCKET;
  if (!('FIELDGATE_CONFIG' in extra)) delete env.FIELDGATE_CONFIG;
  return env;
}

/** Runs `fieldgate ARGS…` (node --import tsx src/cli/main.ts) and resolves with its exit code and output. */
export function fieldgate(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: cliEnv(opts.env), timeout: opts.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`fieldgate ${args.join(' ')}: ${err.message}\n${stderr}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}
