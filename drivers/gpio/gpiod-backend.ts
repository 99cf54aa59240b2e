import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import type { EdgeCallback, GpioLine, GpioLineFactory, Level, LineRequest } from './line';

const run = promisify(execFile);

export type GpiodVersion = 1 | 2;

export interface GpiodToolsOptions {
  /** Chip name, number or label as the tools accept it (e.g. "gpiochip0", "pinctrl-bcm2711"). */
  chip: string;
  /** Directory of gpioget/gpioset/gpiomon; default: found on PATH. */
  toolsDir?: string;
  /** Major version of the installed libgpiod tools (detectGpiodVersion). */
  version: GpiodVersion;
  now: () => number;
  onError: (err: unknown, pin: number) => void;
}

/**
 * The tools' command lines per libgpiod major version (brgl/libgpiod tools/, branches
 * v1.6.x and v2.2.x):
 *  - 1.6 (Debian/Raspberry Pi OS bookworm): positional chip; `gpioset --mode=signal`
 *    holds until a signal; gpiomon prints through stdio, fully buffered into a pipe
 *    unless `--line-buffered`; `%e` is 1 rising / 0 falling, `%s %n` the timestamp.
 *  - 2.x (trixie): `--chip`; gpioset holds by default; `gpioget --numeric` prints 0/1;
 *    gpiomon fflush()es before every poll; `%e` is 1 rising / 2 falling, `%S` is
 *    "seconds.nanoseconds" (CLOCK_MONOTONIC by default in both).
 */
interface ToolSyntax {
  get(chip: string, pin: number): string[];
  set(chip: string, pin: number, v: Level): string[];
  mon(chip: string, pin: number): string[];
  parse(line: string): { value: Level; monoMs: number } | undefined;
}

const SYNTAX: Record<GpiodVersion, ToolSyntax> = {
  1: {
    get: (chip, pin) => [chip, String(pin)],
    set: (chip, pin, v) => ['--mode=signal', chip, `${pin}=${v}`],
    mon: (chip, pin) => ['--line-buffered', '--format=%e %s %n', chip, String(pin)],
    parse: (line) => parseGpiomonLine(line),
  },
  2: {
    get: (chip, pin) => ['--chip', chip, '--numeric', String(pin)],
    set: (chip, pin, v) => ['--chip', chip, `${pin}=${v}`],
    mon: (chip, pin) => ['--chip', chip, '--format=%e %S', String(pin)],
    parse: (line) => parseGpiomonLineV2(line),
  },
};

/** The major version of the installed tools, from `gpioget --version` ("gpioget (libgpiod) v2.1.3"). */
export async function detectGpiodVersion(toolsDir?: string): Promise<GpiodVersion> {
  const cmd = toolsDir ? path.join(toolsDir, 'gpioget') : 'gpioget';
  const { stdout } = await run(cmd, ['--version']);
  const m = /\(libgpiod\) v(\d+)\.\S*/.exec(stdout);
  if (m && (m[1] === '1' || m[1] === '2')) return m[1] === '1' ? 1 : 2;
  throw new Error(`gpiod tools report ${m ? `libgpiod v${m[0].split(' v')[1]}` : JSON.stringify(stdout.trim().split('\n')[0] ?? '')}, which this version of fieldgate does not know (supported: 1.x, 2.x)`);
}

/**
 * Character-device backend through the gpiod tools, libgpiod 1.6 or 2.x syntax
 * (`apt install gpiod`). Chosen automatically when /sys/class/gpio is missing
 * (kernels built without the deprecated sysfs interface). One process per
 * claimed line: gpiomon for a watched input, gpioset holding an output
 * (restarted on every write, after the previous one has exited: the kernel
 * frees the line only then, and a request before fails EBUSY).
 * Event times come from the kernel (CLOCK_MONOTONIC) and are mapped to wall time.
 */
export function createGpiodToolsFactory(opts: GpiodToolsOptions): GpioLineFactory {
  const tool = (name: string) => (opts.toolsDir ? path.join(opts.toolsDir, name) : name);
  const syntax = SYNTAX[opts.version];
  const gpioget = async (pin: number): Promise<Level> => {
    const args = syntax.get(opts.chip, pin);
    const { stdout } = await run(tool('gpioget'), args);
    return parseLevel(stdout, `gpioget ${args.join(' ')}`);
  };
  return {
    name: 'cdev',
    async open(req: LineRequest): Promise<GpioLine> {
      let proc: ChildProcess | undefined;
      let level: Level = req.direction === 'in' ? await gpioget(req.pin) : req.initial;
      let queue: Promise<void> = Promise.resolve();
      const hold = (v: Level): Promise<void> => {
        const next = queue.then(async () => {
          await stopAndWait(proc);
          const args = syntax.set(opts.chip, req.pin, v);
          proc = spawn(tool('gpioset'), args, { stdio: ['ignore', 'ignore', 'pipe'] });
          watchFailure(proc, `gpioset ${args.join(' ')}`, (err) => opts.onError(err, req.pin));
          level = v;
        });
        queue = next.catch(() => undefined);
        return next;
      };
      if (req.direction === 'out') await hold(req.initial);
      return {
        pin: req.pin,
        // While gpiomon holds the line, gpioget would fail (EBUSY): report the level the events gave.
        read: async () => (proc || req.direction === 'out' ? level : gpioget(req.pin)),
        write: (v) => hold(v),
        watch(cb: EdgeCallback) {
          const previous = proc;
          proc = undefined;
          const args = syntax.mon(opts.chip, req.pin);
          const started = stopAndWait(previous).then(() => {
            const mon = spawn(tool('gpiomon'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
            proc = mon;
            watchFailure(mon, `gpiomon ${args.join(' ')}`, (err) => opts.onError(err, req.pin));
            readline.createInterface({ input: mon.stdout! }).on('line', (line) => {
              const ev = syntax.parse(line);
              if (!ev) return;
              level = ev.value;
              const monoNowMs = Number(process.hrtime.bigint() / 1_000_000n);
              cb(ev.value, opts.now() - Math.max(0, monoNowMs - ev.monoMs));
            });
          });
          queue = queue.then(() => started);
        },
        unwatch() {
          stopProc(proc);
          proc = undefined;
        },
        async release() {
          await queue;
          await stopAndWait(proc);
          proc = undefined;
        },
      };
    },
  };
}

/** libgpiod 1.6 "%e %s %n": "1 12345 678901234" (1 rising, 0 falling; seconds, nanoseconds) → level and monotonic ms; undefined for other lines. */
export function parseGpiomonLine(line: string): { value: Level; monoMs: number } | undefined {
  const m = /^([01]) (\d+) (\d+)$/.exec(line.trim());
  if (!m) return undefined;
  return { value: m[1] === '1' ? 1 : 0, monoMs: Number(m[2]) * 1000 + Math.floor(Number(m[3]) / 1e6) };
}

/** libgpiod 2.x "%e %S": "2 12345.678901234" (1 rising, 2 falling; seconds.nanoseconds) → level and monotonic ms. */
export function parseGpiomonLineV2(line: string): { value: Level; monoMs: number } | undefined {
  const m = /^([12]) (\d+)\.(\d{9})$/.exec(line.trim());
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

/** SIGTERM and wait until the process has exited (SIGKILL after 2 s). */
async function stopAndWait(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const kill = setTimeout(() => p.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(kill);
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
