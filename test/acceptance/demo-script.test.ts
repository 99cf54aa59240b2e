import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '../..');

test('npm run demo: the first line names the embedded broker and its MQTT version, and no warning precedes the data', { timeout: 60_000 }, async (t) => {
  const state = tempDir(t, 'fg-demo-');
  // scripts/demo.ts as `npm run demo` runs it (compiled there; from source here), on a free port.
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/demo.ts'), '--port', '0'], {
    cwd: ROOT,
    env: { ...process.env, FIELDGATE_STATE: state },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  await waitFor(() => /^\[data\] [1-9]\d* readings/m.test(out), { timeoutMs: 30_000, what: 'readings through the broker' });
  proc.kill('SIGINT');
  assert.equal(await exited, 0);
  const lines = out.split('\n');
  assert.match(lines[0], /^fieldgate demo: embedded broker \(aedes, MQTT 3\.1\.1\) on mqtt:\/\/127\.0\.0\.1:\d+; gateway "demo-gw"; state in /);
  assert.equal(lines.filter((l) => l.startsWith('{')).length, 0, `no JSON log line in the demo output:\n${out}`);
  assert.doesNotMatch(out + err, /refused MQTT 5/);
  assert.ok(lines.includes('[status] online'), out);
});

test('npm run demo says it is compiling before tsc runs', async () => {
  const pkg = (await import(path.join(ROOT, 'package.json'))) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.demo, /^echo '[^']*compiling[^']*' && npm run build --silent && node dist\/scripts\/demo\.js$/);
});
