import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from './wait';

export const SOCAT_BIN = process.env.SOCAT_BIN ?? 'socat';

/**
 * A virtual serial cable: a socat pty pair with stable link paths `a` and `b` in
 * a temp dir. stop() is "unplugging the adapter" (the ptys vanish, I/O fails with
 * EIO); start() again "plugs it back" on the same link paths. Register
 * `t.after(() => cable.dispose())` so socat is always killed.
 */
export class SocatPair {
  readonly dir: string;
  readonly a: string;
  readonly b: string;
  private proc?: ChildProcess;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-socat-'));
    this.a = path.join(this.dir, 'a');
    this.b = path.join(this.dir, 'b');
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn(SOCAT_BIN, ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = undefined;
    });
    await waitFor(() => /starting data transfer loop/.test(stderr) || !this.proc, { timeoutMs: 5000, what: 'socat pty pair' });
    if (!this.proc) throw new Error(`socat exited: ${stderr}`);
  }

  /** Kill socat and wait until it is gone (the link paths are removed by socat on exit). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await exited;
    this.proc = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
