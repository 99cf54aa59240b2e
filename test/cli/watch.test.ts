import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXIT } from '../../src/cli/command';
import { watchSensors } from '../../src/cli/watch';
import { T0 } from '../control/fake-view';
import { startFakeDaemon } from '../control/helpers';
import { waitFor } from '../helpers/wait';
import { captureIO } from './capture-io';

const repoRoot = path.resolve(__dirname, '..', '..');

test('watch without a TTY prints one line per reading of the named sensors and stops on abort', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const io = captureIO();
  const abort = new AbortController();
  const done = watchSensors({ socketPath, sensors: ['boiler.temp'], json: false, io, signal: abort.signal });
  await waitFor(() => view.listeners.size === 1, { what: 'subscription' });
  view.emit({ sensor: 'tank.level', ts: T0, value: 0.5, quality: 'good', flags: 0 });
  view.emit({ sensor: 'boiler.temp', ts: T0 + 1000, value: 22.25, quality: 'good', flags: 0 });
  await waitFor(() => io.stdout().includes('\n'), { what: 'a line' });
  abort.abort();
  assert.equal(await done, EXIT.OK);
  assert.equal(io.stdout(), '2026-01-01 12:00:01Z  boiler.temp  22.25 °C  good\n');
  await waitFor(() => view.listeners.size === 0, { what: 'unsubscribed' });
});

test('watch --json prints one JSON object per reading', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const io = captureIO({ isTTY: true });
  const abort = new AbortController();
  const done = watchSensors({ socketPath, sensors: [], json: true, io, signal: abort.signal });
  await waitFor(() => view.listeners.size === 1, { what: 'subscription' });
  view.emit({ sensor: 'door.open', ts: T0, value: 'open', quality: 'good', flags: 0 });
  await waitFor(() => io.stdout().includes('\n'), { what: 'a line' });
  abort.abort();
  assert.equal(await done, EXIT.OK);
  assert.deepEqual(JSON.parse(io.stdout()), { sensor: 'door.open', ts: T0, value: 'open', quality: 'good', flags: 0 });
});

test('watch of an unknown sensor fails before subscribing', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const io = captureIO();
  const code = await watchSensors({ socketPath, sensors: ['nope'], json: false, io, signal: new AbortController().signal });
  assert.equal(code, EXIT.FAIL);
  assert.equal(io.stderr(), 'fieldgate watch: unknown sensor(s): nope\n');
  assert.equal(view.listeners.size, 0);
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

test('watch in a terminal (tmux) redraws values and sparklines in place and quits on Ctrl-C', { skip: hasTmux() ? false : 'tmux is not installed' }, async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  // A private tmux server on a socket in a temp dir (removed in teardown), not in /tmp/tmux-0.
  const tmuxDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-tmux-'));
  const server = path.join(tmuxDir, 'tmux.sock');
  const env = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-S', server, ...args], { env, encoding: 'utf8' });
  const cli = `${process.execPath} --import tsx src/cli/main.ts watch boiler.temp tank.level --socket ${socketPath}`;
  tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'w', '-x', '100', '-y', '12', '-c', repoRoot, `${cli}; echo "EXIT=$?"; sleep 60`);
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // the server is already gone
    }
    fs.rmSync(tmuxDir, { recursive: true, force: true });
  });
  const screen = () => tmux('capture-pane', '-p', '-t', 'w');
  await waitFor(() => screen().includes('tank.level'), { timeoutMs: 20_000, what: 'the first frame' });
  assert.match(screen(), /boiler\.temp +21\.5 +°C +good/);

  await waitFor(() => view.listeners.size === 1, { timeoutMs: 10_000, what: 'the watch subscription' });
  for (const v of [22, 23, 24]) view.emit({ sensor: 'boiler.temp', ts: Date.now(), value: v, quality: 'good', flags: 0 });
  // History 21.5, 22, 23, 24 scaled over 21.5..24: ▁ ▂ ▅ █
  await waitFor(() => /boiler\.temp +24 +°C +good .*▁▂▅█/.test(screen()), { timeoutMs: 10_000, what: 'the updated value and sparkline' });
  const frame = screen();
  assert.equal(frame.split('\n').filter((l) => l.includes('boiler.temp')).length, 1, 'redrawn in place, not appended');
  view.emit({ sensor: 'boiler.temp', ts: Date.now(), value: 20, quality: 'bad', flags: 0 });
  await waitFor(() => /boiler\.temp +20 +°C +bad /.test(screen()), { timeoutMs: 10_000, what: 'a second update' });

  tmux('send-keys', '-t', 'w', 'C-c');
  await waitFor(() => screen().includes('EXIT=0'), { timeoutMs: 10_000, what: 'watch to exit 0 on Ctrl-C' });
  await waitFor(() => view.listeners.size === 0, { what: 'the daemon to drop the subscription' });
});
