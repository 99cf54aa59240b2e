import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { ensureFileMode, writeFileAtomic } from '../../src/core/atomic-file';
import { silentLogger } from '../../src/core/logger';
import { parseConfig } from '../../src/config/load';
import { Gateway } from '../../src/daemon/gateway';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema } from '../../src/outbox/schema';
import { tempDir } from '../helpers/temp';

/** Run `fn` with the umask a user typing `fieldgate run` by hand could have. */
function withUmask<T>(mask: number, fn: () => T): T {
  const before = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(before);
  }
}

const modeOf = (p: string) => fs.lstatSync(p).mode & 0o777;

test('writeFileAtomic gives the file 0640 by default and the mode asked for, whatever the umask', (t) => {
  const dir = tempDir(t);
  // With open(2)'s 0666 and umask 0 the file would be 0666; with umask 077 it would be 0600.
  withUmask(0o000, () => writeFileAtomic(path.join(dir, 'a.json'), '{}'));
  withUmask(0o077, () => writeFileAtomic(path.join(dir, 'b.json'), '{}'));
  withUmask(0o000, () => writeFileAtomic(path.join(dir, 'c.json'), '{}', 0o600));
  assert.deepEqual([modeOf(path.join(dir, 'a.json')), modeOf(path.join(dir, 'b.json')), modeOf(path.join(dir, 'c.json'))], [0o640, 0o640, 0o600]);
  assert.equal(fs.readFileSync(path.join(dir, 'a.json'), 'utf8'), '{}');
});

test('a symlink planted at the temp name is not written through', (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  const file = path.join(dir, 'state.json');
  fs.symlinkSync(victim, `${file}.tmp`);
  writeFileAtomic(file, 'new');
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  assert.equal(fs.readFileSync(file, 'utf8'), 'new');
  assert.equal(fs.lstatSync(file).isFile(), true);
  assert.equal(fs.existsSync(`${file}.tmp`), false);
});

test('a symlink at the file itself is replaced by the file, its target left alone', (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious');
  const file = path.join(dir, 'state.json');
  fs.symlinkSync(victim, file);
  writeFileAtomic(file, 'new');
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
  assert.equal(fs.lstatSync(file).isFile(), true);
  assert.equal(fs.readFileSync(file, 'utf8'), 'new');
});

test('ensureFileMode creates with the mode, leaves an existing file alone and refuses a symlink', (t) => {
  const dir = tempDir(t);
  withUmask(0o000, () => ensureFileMode(path.join(dir, 'db')));
  assert.equal(modeOf(path.join(dir, 'db')), 0o640);
  fs.writeFileSync(path.join(dir, 'old'), 'x', { mode: 0o600 });
  ensureFileMode(path.join(dir, 'old'));
  assert.equal(modeOf(path.join(dir, 'old')), 0o600);
  assert.equal(fs.readFileSync(path.join(dir, 'old'), 'utf8'), 'x');
  fs.symlinkSync(path.join(dir, 'old'), path.join(dir, 'link'));
  assert.throws(() => ensureFileMode(path.join(dir, 'link')), /is a symbolic link; refusing to use it as a state file/);
});

test('the SQLite outbox and its -wal and -shm files are 0640 when the daemon runs with umask 0', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'outbox.db');
  const ob = withUmask(0o000, () => new Outbox({ path: file, config: outboxSchema.parse({}), clock: new VirtualClock(), log: silentLogger }));
  t.after(() => ob.close());
  // SQLite's default would be 0644 & ~umask = 0644; it gives -wal/-shm the main file's mode.
  for (const f of [file, `${file}-wal`, `${file}-shm`]) assert.equal(modeOf(f), 0o640, f);
});

test('the state directory the gateway creates is 0750 when the daemon runs with umask 0', (t) => {
  const dir = tempDir(t);
  const stateDir = path.join(dir, 'state');
  const parsed = parseConfig('gw.yaml', 'gateway: { id: gw }\ndrivers: [{ kind: sim, id: sim, sensors: [{ id: a, waveform: sine }] }]\n');
  assert.ok(parsed.ok);
  // mkdir(2) alone would give 0o777 & ~0 = 0o777.
  const gw = withUmask(0o000, () => new Gateway({ loaded: parsed.value, stateDir, clock: new VirtualClock(), log: silentLogger, systemRoot: dir }));
  t.after(() => gw.close());
  assert.equal(modeOf(stateDir), 0o750);
  assert.equal(modeOf(path.join(stateDir, 'outbox.db')), 0o640);
});
