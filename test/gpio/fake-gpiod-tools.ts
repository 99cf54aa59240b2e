import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Stand-ins for the gpiod command-line tools of libgpiod 1.6 and 2.x, as node scripts
 * that behave like brgl/libgpiod's tools/ (v1.6.x and v2.2.x branches):
 *  - `--version` prints "<tool> (libgpiod) v1.6.3" / "v2.1.3";
 *  - arguments are checked with each version's syntax; the other version's syntax fails
 *    as getopt does ("unrecognized option"), exit 1;
 *  - gpiomon 1.6 writes through stdio: without -b/--line-buffered, stdout to a pipe is
 *    fully buffered (4 KiB), so events arrive only when the buffer fills or it exits;
 *    2.x fflush()es before every poll. Format 1.6 "%e %s %n" (e: 1 rising, 0 falling),
 *    2.x "%e %S" (e: 1 rising, 2 falling; S = seconds.nanoseconds);
 *  - gpioset holds the line until SIGTERM; the kernel frees it only when the process has
 *    exited (here 300 ms after the signal), and a second request meanwhile fails EBUSY.
 *    The kernel frees a line however its holder ends, so the fake takes the line (its lock
 *    file) only once its SIGTERM handler, which gives it back, is installed: a SIGTERM while
 *    node is still starting ends the fake before it holds anything (as it ends the real one).
 * Every call is appended to calls.log.
 */
export function fakeGpiodTools(dir: string, version: 1 | 2): string {
  const log = path.join(dir, 'calls.log');
  const common = `#!${process.execPath}
const fs = require('fs');
const args = process.argv.slice(2);
const tool = require('path').basename(process.argv[1]);
const V = ${version};
if (args[0] === '--version') { process.stdout.write(tool + ' (libgpiod) ' + (V === 1 ? 'v1.6.3' : 'v2.1.3') + '\\n'); process.exit(0); }
fs.appendFileSync(${JSON.stringify(log)}, tool + ' ' + args.join(' ') + '\\n');
function die(msg) { process.stderr.write(tool + ': ' + msg + '\\n'); process.exit(1); }
function opts(known) {
  const o = { flags: new Set(), values: {}, pos: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) { o.pos.push(a); continue; }
    const [k, v] = a.split(/=(.*)/s);
    if (!(k in known)) die("unrecognized option '" + a + "'");
    if (known[k]) o.values[k] = v !== undefined ? v : args[++i]; else o.flags.add(k);
  }
  return o;
}
function monoNs() { return process.hrtime.bigint(); }
`;
  const write = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), common + body, { mode: 0o755 });
  const lockPath = `(pin) => ${JSON.stringify(dir)} + '/line-' + pin + '.lock'`;
  if (version === 1) {
    write('gpioget', `const o = opts({}); if (o.pos.length !== 2) die('invalid arguments'); process.stdout.write('1\\n');`);
    write(
      'gpioset',
      `const o = opts({ '--mode': true, '-m': true }); if (o.values['--mode'] !== 'signal' || o.pos.length !== 2) die('invalid arguments');
const [pin, value] = o.pos[1].split('='); const lockFile = (${lockPath})(pin);
process.on('SIGTERM', () => setTimeout(() => { fs.rmSync(lockFile, { force: true }); process.exit(0); }, 300));
try { fs.writeFileSync(lockFile, value, { flag: 'wx' }); } catch { die('error setting the GPIO line values: Device or resource busy'); }
setInterval(() => {}, 1 << 30);`,
    );
    write(
      'gpiomon',
      `const o = opts({ '--format': true, '-F': true, '--line-buffered': false, '-b': false }); if (o.pos.length !== 2) die('invalid arguments');
const lineBuffered = o.flags.has('--line-buffered') || o.flags.has('-b');
let buf = '';
const out = (line) => { if (lineBuffered) process.stdout.write(line + '\\n'); else { buf += line + '\\n'; if (buf.length >= 4096) { process.stdout.write(buf); buf = ''; } } };
const t = monoNs(); const s = t / 1000000000n, ns = t % 1000000000n;
out('0 ' + s + ' ' + ns); out('1 ' + s + ' ' + ns);
process.on('SIGTERM', () => { process.stdout.write(buf); process.exit(0); });
setInterval(() => {}, 1 << 30);`,
    );
  } else {
    write('gpioget', `const o = opts({ '--chip': true, '-c': true, '--numeric': false }); if (!o.values['--chip'] || o.pos.length !== 1) die('invalid arguments');
process.stdout.write(o.flags.has('--numeric') ? '1\\n' : '"' + o.pos[0] + '"=active\\n');`);
    write(
      'gpioset',
      `const o = opts({ '--chip': true, '-c': true }); if (!o.values['--chip'] || o.pos.length !== 1) die('invalid arguments');
const [pin, value] = o.pos[0].split('='); const lockFile = (${lockPath})(pin);
process.on('SIGTERM', () => setTimeout(() => { fs.rmSync(lockFile, { force: true }); process.exit(0); }, 300));
try { fs.writeFileSync(lockFile, value, { flag: 'wx' }); } catch { die('unable to request lines on chip ' + o.values['--chip'] + ': Device or resource busy'); }
setInterval(() => {}, 1 << 30);`,
    );
    write(
      'gpiomon',
      `const o = opts({ '--chip': true, '-c': true, '--format': true, '-F': true }); if (!o.values['--chip'] || o.pos.length !== 1) die('invalid arguments');
const t = monoNs(); const S = (t / 1000000000n) + '.' + String(t % 1000000000n).padStart(9, '0');
process.stdout.write('2 ' + S + '\\n1 ' + S + '\\n');
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);`,
    );
  }
  return log;
}

/** Which value each line's holder (a running fake gpioset) drives, by pin. */
export function heldValue(dir: string, pin: number): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, `line-${pin}.lock`), 'utf8');
  } catch {
    return undefined;
  }
}

/** Wait for something the real child processes do (the only wall-clock waits: real processes). */
export async function until<T>(what: string, get: () => T | undefined, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
