import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Every `npm run bench -- NAME` the README quotes still runs and prints its figures: the
 * built entry point (dist/, which `npm test` builds first), each with the shortest
 * options it takes. No figure is checked against a number (speed is the benches' job,
 * not the tests'); a bench that throws, exits non-zero or prints no figure fails here.
 * (One did: `bench modbus` re-parsed a parsed config and refused its bare-ms durations.)
 */
const ROOT = path.resolve(__dirname, '../..');
const BENCH = path.join(ROOT, 'dist/scripts/bench.js');

type Figures = Record<string, unknown>;

function runBench(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BENCH, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** The bench's JSON: one pretty-printed object, or one object a line (the daemon bench). */
function figures(out: string): Figures[] {
  try {
    return [JSON.parse(out) as Figures];
  } catch {
    return out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Figures);
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

const cases: { args: string[]; check(f: Figures[]): void }[] = [
  { args: ['modbus', '--seconds', '1'], check: (f) => assert.ok(num(at(f[0], 'wire', 'transactionsPerSecond')) > 0, JSON.stringify(at(f[0], 'wire'))) },
  { args: ['modbus-bus'], check: (f) => assert.ok(num(f[0].cpuUsPerTransaction) > 0) },
  { args: ['outbox'], check: (f) => assert.ok(num(f[0].bytesPerReading) > 0) },
  { args: ['pipeline', '--seconds', '1'], check: (f) => assert.ok(num(f[0].readingsPerSecond) > 0) },
  { args: ['control', '--seconds', '1'], check: (f) => assert.ok(num(at(f[0], 'latency', 'samples')) > 0) },
  { args: ['modbus-steady', '--warmup', '1', '--seconds', '1'], check: (f) => assert.ok(num(at(f[0], 'driver', 'cpuMsPerS')) > 0) },
  { args: ['commands', '--real', '20'], check: (f) => assert.equal(f[0].realFinalsAllOne, true) },
  { args: ['wakeups', '--timers', '2', '--seconds', '5'], check: (f) => assert.ok(Number.isFinite(num(f[0].cpuMsPerWakeup))) },
  {
    args: ['daemon', '--sensors', '10', '--rate', '100', '--warmup', '1', '--seconds', '1'],
    check: (f) => assert.ok(num(f.find((x) => x.bench === 'daemon')?.received) > 0),
  },
  {
    args: ['daemon', '--modbus', '2x2', '--warmup', '1', '--seconds', '2'],
    check: (f) => assert.ok(num(f.find((x) => x.bench === 'daemon')?.transactionsPerS) > 0),
  },
  {
    args: ['daemon', '--modbus', '2x2', '--link', 'serial', '--warmup', '1', '--seconds', '2'],
    check: (f) => assert.ok(num(f.find((x) => x.bench === 'daemon')?.transactionsPerS) > 0),
  },
];

for (const c of cases) {
  test(`npm run bench -- ${c.args.join(' ')}: runs and prints its figures`, async () => {
    assert.ok(fs.existsSync(BENCH), `${BENCH} is missing: npm test builds it (npm run build)`);
    const { code, out, err } = await runBench(c.args);
    assert.equal(code, 0, `exit ${code}\n${err.slice(-2000)}`);
    const f = figures(out);
    assert.ok(f.length > 0, `no JSON in:\n${out.slice(-1000)}`);
    c.check(f);
  });
}
