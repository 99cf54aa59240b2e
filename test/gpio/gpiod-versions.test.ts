import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createGpiodToolsFactory, detectGpiodVersion } from '../../drivers/gpio/gpiod-backend';
import type { Level } from '../../drivers/gpio/line';
import { tempDir } from './driver-context';
import { fakeGpiodTools, heldValue, until } from './fake-gpiod-tools';

for (const version of [1, 2] as const) {
  test(`libgpiod ${version === 1 ? '1.6' : '2.x'}: the version is read from the tools, edges arrive as they happen, writes never collide (EBUSY)`, async (t) => {
    const dir = tempDir(t, 'fg-gpiod-v');
    const log = fakeGpiodTools(dir, version);
    assert.equal(await detectGpiodVersion(dir), version);
    const errors: unknown[] = [];
    const lines = createGpiodToolsFactory({ chip: 'gpiochip0', toolsDir: dir, version, now: Date.now, onError: (e) => errors.push(e) });

    const input = await lines.open({ pin: 17, direction: 'in' });
    t.after(() => input.release());
    assert.equal(await input.read(), 1);
    const edges: Level[] = [];
    input.watch((v) => edges.push(v));
    // 1.6 without --line-buffered: these two lines sit in gpiomon's 4 KiB stdio buffer for ever.
    await until('two edges', () => (edges.length >= 2 ? true : undefined));
    assert.deepEqual(edges, [0, 1]); // falling then rising
    await input.release();

    const out = await lines.open({ pin: 27, direction: 'out', initial: 1 });
    t.after(() => out.release());
    await until('the line held at 1', () => (heldValue(dir, 27) === '1' ? true : undefined));
    await out.write(0);
    await out.write(1);
    await out.write(0);
    await until('the line held at 0', () => (heldValue(dir, 27) === '0' ? true : undefined));
    assert.deepEqual(errors, [], 'no gpioset failed with "Device or resource busy"');
    await out.release();
    const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
    const expected =
      version === 1
        ? ['gpioget gpiochip0 17', 'gpioget gpiochip0 17', 'gpiomon --line-buffered --format=%e %s %n gpiochip0 17', 'gpioset --mode=signal gpiochip0 27=1']
        : ['gpioget --chip gpiochip0 --numeric 17', 'gpioget --chip gpiochip0 --numeric 17', 'gpiomon --chip gpiochip0 --format=%e %S 17', 'gpioset --chip gpiochip0 27=1'];
    assert.deepEqual(calls.slice(0, 4), expected);
    // A gpioset replaced before it started is killed before it logs; the last one holds 0.
    const sets = calls.slice(4);
    assert.ok(sets.every((c) => c === expected[3].replace('27=1', '27=0') || c === expected[3]), sets.join('\n'));
    assert.equal(sets.at(-1), expected[3].replace('27=1', '27=0'));
  });
}

test('gpiod tools of an unknown version are refused with what was found', async (t) => {
  const dir = tempDir(t, 'fg-gpiod-v');
  fs.writeFileSync(`${dir}/gpioget`, `#!/bin/sh\necho "gpioget (libgpiod) v3.0"\n`, { mode: 0o755 });
  await assert.rejects(detectGpiodVersion(dir), /libgpiod v3\.0\b.*supported: 1\.x, 2\.x/);
});
