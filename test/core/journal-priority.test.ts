import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createLogger, isJournalStream, prefixLines } from '../../src/core/logger';
import { tempDir } from '../helpers/temp';
import { waitFor } from '../helpers/wait';

const ROOT = path.resolve(__dirname, '../..');

/** JOURNAL_STREAM as systemd sets it for a stream: "<st_dev>:<st_ino>" (systemd.exec(5)). */
function journalStreamOf(fd: number): string {
  const st = fs.fstatSync(fd, { bigint: true });
  return `${st.dev}:${st.ino}`;
}

test('with journalPriority each log line starts with its sd-daemon(3) prefix: err 3, warning 4, info 6, debug 7', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', journalPriority: true, write: (l) => lines.push(l), now: () => 0 });
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  assert.deepEqual(
    lines.map((l) => l.slice(0, l.indexOf('{'))),
    ['<3>', '<4>', '<6>', '<7>'],
  );
  assert.deepEqual(JSON.parse(lines[0].slice(3)), { ts: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'e' });
});

test('without journalPriority lines are plain JSON (a terminal or a pipe)', () => {
  const lines: string[] = [];
  createLogger({ write: (l) => lines.push(l), now: () => 0 }).error('e');
  assert.deepEqual(lines, ['{"ts":"1970-01-01T00:00:00.000Z","level":"error","msg":"e"}\n']);
});

test('prefixLines prefixes every line, also across chunks that end mid-line', () => {
  let out = '';
  const w = prefixLines(3, (t) => void (out += t));
  w('a\nb');
  w('c\n');
  w('');
  w('\nd\n');
  assert.equal(out, '<3>a\n<3>bc\n<3>\n<3>d\n');
});

test('isJournalStream is true only for the stream JOURNAL_STREAM names', (t) => {
  const dir = tempDir(t);
  const a = fs.openSync(path.join(dir, 'a'), 'w');
  const b = fs.openSync(path.join(dir, 'b'), 'w');
  t.after(() => [a, b].forEach((fd) => fs.closeSync(fd)));
  const env = { JOURNAL_STREAM: journalStreamOf(a) };
  assert.equal(isJournalStream(a, env), true);
  assert.equal(isJournalStream(b, env), false);
  assert.equal(isJournalStream(a, {}), false);
  assert.equal(isJournalStream(a, { JOURNAL_STREAM: 'garbage' }), false);
});

/** Runs `fieldgate run` with stdout and stderr on one file, as systemd connects both to one journal stream. */
function runIntoFile(t: { after(fn: () => void): void }, dir: string, config: string, journal: boolean) {
  const file = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(file, config);
  const outFile = path.join(dir, 'journal');
  const fd = fs.openSync(outFile, 'w');
  const env: NodeJS.ProcessEnv = { ...process.env, JOURNAL_STREAM: journal ? journalStreamOf(fd) : undefined };
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'run', '--config', file, '--state', path.join(dir, 'state'), '--rules', path.join(dir, 'rules.d'), '--socket', path.join(dir, 'sock')],
    { cwd: ROOT, env, stdio: ['ignore', fd, fd] },
  );
  fs.closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  return { proc, exited, read: () => fs.readFileSync(outFile, 'utf8') };
}

test('fieldgate run with an invalid config writes its errors at priority err when stderr is the journal', async (t) => {
  const dir = tempDir(t);
  const r = runIntoFile(t, dir, 'gateway: { id: gw }\ndrivers: [{ kind: nosuch, id: x }]\n', true);
  assert.equal(await r.exited, 1);
  const lines = r.read().trimEnd().split('\n');
  assert.ok(lines.length >= 2, r.read());
  for (const l of lines) assert.match(l, /^<3>/, l);
  assert.match(lines[lines.length - 1], /^<3>fieldgate: 1 error\(s\) in .*; not starting$/);
});

test('the same error goes out without a prefix when stderr is not the journal', async (t) => {
  const dir = tempDir(t);
  const r = runIntoFile(t, dir, 'gateway: { id: gw }\ndrivers: [{ kind: nosuch, id: x }]\n', false);
  assert.equal(await r.exited, 1);
  assert.match(r.read(), /^.*gateway\.yaml:2:/);
});

test('a running daemon writes every log line with the prefix of its level', async (t) => {
  const dir = tempDir(t);
  const r = runIntoFile(t, dir, 'gateway: { id: gw, logLevel: debug }\ndrivers:\n  - kind: sim\n    id: sim\n    sensors: [{ id: a, waveform: sine }]\n', true);
  await waitFor(() => r.read().includes('"msg":"fieldgate running"'), { timeoutMs: 20_000, what: 'fieldgate running' });
  r.proc.kill('SIGTERM');
  assert.equal(await r.exited, 0);
  const want: Record<string, string> = { error: '<3>', warn: '<4>', info: '<6>', debug: '<7>' };
  const lines = r.read().trimEnd().split('\n');
  const levels = new Set<string>();
  for (const l of lines) {
    const m = /^(<\d>)(\{.*\})$/.exec(l);
    assert.ok(m, `unprefixed line: ${l}`);
    const level = (JSON.parse(m[2]) as { level: string }).level;
    levels.add(level);
    assert.equal(m[1], want[level], l);
  }
  // A sim-only config without a rules directory logs info and warnings ("no uplink configured", ...).
  assert.ok(levels.has('info') && levels.has('warn'), [...levels].join());
});
