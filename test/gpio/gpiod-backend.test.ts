import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createGpiodToolsFactory, parseGpiomonLine } from '../../drivers/gpio/gpiod-backend';
import type { Level } from '../../drivers/gpio/line';
import { tempDir } from './driver-context';
import { until } from './fake-gpiod-tools';

test('gpiomon lines "%e %s %n" parse to level and monotonic ms; other lines are ignored', () => {
  assert.deepEqual(parseGpiomonLine('1 1234 567890123'), { value: 1, monoMs: 1_234_567 });
  assert.deepEqual(parseGpiomonLine('0 5 999999'), { value: 0, monoMs: 5000 });
  assert.equal(parseGpiomonLine('event:  RISING EDGE offset: 17'), undefined);
});

/** Stand-ins for the gpiod tools: node scripts that log their arguments and behave like libgpiod 1.6. */
function fakeTools(dir: string): string {
  const log = path.join(dir, 'calls.log');
  const script = (body: string) => `#!${process.execPath}\nconst fs = require('fs');\nfs.appendFileSync(${JSON.stringify(log)}, require('path').basename(process.argv[1]) + ' ' + process.argv.slice(2).join(' ') + '\\n');\n${body}\n`;
  const write = (name: string, body: string) => fs.writeFileSync(path.join(dir, name), script(body), { mode: 0o755 });
  write('gpioget', "process.stdout.write('1\\n');");
  write('gpioset', "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);");
  // Two edges stamped with this process's CLOCK_MONOTONIC, as the kernel would.
  write(
    'gpiomon',
    "const t = process.hrtime.bigint(); const s = t / 1000000000n, ns = t % 1000000000n;\n" +
      "process.stdout.write(`0 ${s} ${ns}\\n1 ${s} ${ns}\\n`); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);",
  );
  return log;
}


test('gpiod tools backend: gpioget for the level, gpiomon for edges, gpioset holding an output', async (t) => {
  const dir = tempDir(t, 'fg-gpiod-');
  const log = fakeTools(dir);
  const errors: unknown[] = [];
  const lines = createGpiodToolsFactory({ chip: 'gpiochip0', toolsDir: dir, version: 1, now: Date.now, onError: (e) => errors.push(e) });
  const input = await lines.open({ pin: 17, direction: 'in' });
  t.after(() => input.release());
  assert.equal(await input.read(), 1);
  const edges: [Level, number][] = [];
  input.watch((v, ts) => edges.push([v, ts]));
  await until('two edges', () => (edges.length >= 2 ? true : undefined));
  assert.deepEqual(edges.map((e) => e[0]), [0, 1]);
  for (const [, ts] of edges) assert.ok(Math.abs(Date.now() - ts) < 5000, 'edge time mapped to wall-clock time');
  assert.equal(await input.read(), 1, 'while monitored, the level comes from the last event');
  await input.release();

  const gpiosetCalls = (n: number) =>
    until(`${n} gpioset call(s)`, () => {
      const c = fs.readFileSync(log, 'utf8').trim().split('\n');
      return c.filter((l) => l.startsWith('gpioset')).length >= n ? c : undefined;
    });
  const out = await lines.open({ pin: 27, direction: 'out', initial: 1 });
  t.after(() => out.release());
  await gpiosetCalls(1);
  await out.write(0);
  const calls = await gpiosetCalls(2);
  await out.release();
  assert.deepEqual(calls, [
    'gpioget gpiochip0 17', // level as the line is opened
    'gpioget gpiochip0 17', // read() before watching
    'gpiomon --line-buffered --format=%e %s %n gpiochip0 17',
    'gpioset --mode=signal gpiochip0 27=1',
    'gpioset --mode=signal gpiochip0 27=0',
  ]);
  assert.deepEqual(errors, []);
});
