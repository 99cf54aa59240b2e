import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import type { EdgeCallback, GpioLine, GpioLineFactory, Level, LineRequest } from './line';

const run = promisify(execFile);

export interface GpiodToolsOptions {
  /** Chip name, number or label as the tools accept it (e.g. "gpiochip0", "pinctrl-bcm2711"). */
  chip: string;
  /** Directory of gpioget/gpioset/gpiomon; default: found on PATH. */
  toolsDir?: string;
  now: () => number;
  onError: (err: unknown, pin: number) => void;
}

/**
 * Character-device backend through Debian's gpiod tools, libgpiod 1.x syntax
 * (Raspberry Pi OS bookworm: `apt install gpiod`). Chosen automatically when
 * /sys/class/gpio is missing (kernels built without the deprecated sysfs
 * interface). One process per claimed line: gpiomon for a watched input,
 * `gpioset --mode=signal` holding an output (restarted on every write).
 * Event times come from the kernel (CLOCK_MONOTONIC) and are mapped to wall time.
 */
export function createGpiodToolsFactory(opts: GpiodToolsOptions): GpioLineFactory {
  const tool = (name: string) => (opts.toolsDir ? path.join(opts.toolsDir, name) : name);
  const gpioget = async (pin: number): Promise<Level> => {
    const { stdout } = await run(tool('gpioget'), [opts.chip, String(pin)]);
    return parseLevel(stdout, `gpioget ${opts.chip} ${pin}`);
  };
  return {
    name: 'cdev',
    async open(req: LineRequest): Promise<GpioLine> {
      let proc: ChildProcess | undefined;
      let level: Level = req.direction === 'in' ? await gpioget(req.pin) : req.initial;
      const hold = (v: Level) => {
        stopProc(proc);
        proc = spawn(tool('gpioset'), ['--mode=signal', opts.chip, `${req.pin}=${v}`], { stdio: ['ignore', 'ignore', 'pipe'] });
        watchFailure(proc, `gpioset ${opts.chip} ${req.pin}`, (err) => opts.onError(err, req.pin));
        level = v;
      };
      if (req.direction === 'out') hold(req.initial);
      return {
        pin: req.pin,
        // While gpiomon holds the line, gpioget would fail (EBUSY): report the level the events gave.
        read: async () => (proc || req.direction === 'out' ? level : gpioget(req.pin)),
        write: async (v) => hold(v),
        watch(cb: EdgeCallback) {
          stopProc(proc);
          const mon = spawn(tool('gpiomon'), ['--format=%e %s %n', opts.chip, String(req.pin)], { stdio: ['ignore', 'pipe', 'pipe'] });
          proc = mon;
          watchFailure(mon, `gpiomon ${opts.chip} ${req.pin}`, (err) => opts.onError(err, req.pin));
          readline.createInterface({ input: mon.stdout! }).on('line', (line) => {
            const ev = parseGpiomonLine(line);
            if (!ev) return;
            level = ev.value;
            const monoNowMs = Number(process.hrtime.bigint() / 1_000_000n);
            cb(ev.value, opts.now() - Math.max(0, monoNowMs - ev.monoMs));
          });
        },
        unwatch() {
          stopProc(proc);
          proc = undefined;
        },
        async release() {
          stopProc(proc);
          proc = undefined;
        },
      };
    },
  };
}

/** "1 12345 678901234" (event, seconds, nanoseconds) → level and monotonic ms; undefined for other lines. */
export function parseGpiomonLine(line: string): { value: Level; monoMs: number } | undefined {
  const m = /^([01]) (\d+) (\d+)$/.exec(line.trim());
  if (!m) return undefined;
  return { value: m[1] === '1' ? 1 : 0, monoMs: Number(m[2]) * 1000 + Math.floor(Number(m[3]) / 1e6) };
}

function parseLevel(text: string, what: string): Level {
  const t = text.trim();
  if (t === '0' || t === '1') return t === '1' ? 1 : 0;
  throw new Error(`${what}: unexpected output ${JSON.stringify(t)}`);
}

function stopProc(p: ChildProcess | undefined): void {
  if (p && p.exitCode === null && !p.killed) p.kill('SIGTERM');
}

/** Report a tool that fails to start or exits on its own (not when we killed it). */
function watchFailure(p: ChildProcess, what: string, report: (err: Error) => void): void {
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  p.on('error', (err) => report(new Error(`${what}: ${err.message}`)));
  p.on('exit', (code, signal) => {
    if (p.killed || signal === 'SIGTERM') return;
    report(new Error(`${what} exited (${code ?? signal}): ${stderr.trim() || 'no message'}`));
  });
}
