/**
 * A real fieldgate daemon process for acceptance tests: `fieldgate run` from the
 * TypeScript sources (node --import tsx, one process, so SIGKILL hits the daemon
 * itself). Always kill it in teardown: `t.after(() => d.kill())`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from './wait';

// The repository root, also when this helper runs compiled from dist/ (a benchmark).
const ROOT = path.resolve(__dirname, fs.existsSync(path.resolve(__dirname, '../../package.json')) ? '../..' : '../../..');

export interface DaemonProcess {
  proc: ChildProcess;
  dir: string;
  configFile: string;
  stateDir: string;
  socketPath: string;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  stderr: string[];
  waitLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
  /** Send a signal and wait for the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

export interface DaemonStartOptions {
  config: string;
  /** Reuse a directory (state survives a restart); a temp dir otherwise. */
  dir?: string;
  rulesDir?: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

// Temp dirs made for a test file are removed when its process exits (after every
// test's teardown has killed the daemons using them).
const madeDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of madeDirs) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'fg-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  madeDirs.add(dir);
  return dir;
}

export function startDaemon(opts: DaemonStartOptions): DaemonProcess {
  const dir = opts.dir ?? tempDir('fg-daemon-');
  const configFile = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(configFile, opts.config);
  const stateDir = path.join(dir, 'state');
  const socketPath = path.join(dir, 'control.sock');
  const rulesDir = opts.rulesDir ?? path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir, { recursive: true });
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'run', '--config', configFile, '--state', stateDir, '--socket', socketPath, '--rules', rulesDir, ...(opts.args ?? [])],
    { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  proc.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    proc,
    dir,
    configFile,
    stateDir,
    socketPath,
    logs,
    stderr,
    exited,
    waitLog: (pred, timeoutMs = 10_000, what = 'log line') =>
      waitFor(() => {
        if (done && !logs.some(pred)) throw new Error(`daemon exited before ${what}; stderr: ${stderr.join('')}`);
        return logs.find(pred);
      }, { timeoutMs, what }),
    stop: async (signal = 'SIGTERM') => {
      if (!done) proc.kill(signal);
      return exited;
    },
    kill: async () => {
      if (!done) proc.kill('SIGKILL');
      await exited;
    },
  };
}
