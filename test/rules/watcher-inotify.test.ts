import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock, type TimerHandle } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { RulesEngine } from '../../src/rules/engine';
import { loadRuleSet } from '../../src/rules/load';
import { RuleWatcher } from '../../src/rules/watcher';
import { waitFor } from '../helpers/wait';
import { context } from './helpers';

// Real files and the real fs.watch (inotify) in a temp dir; the debounce and the
// polls run on a virtual clock that only moves by the debounce (300 ms) per step,
// so a change found here was found through inotify, never by a poll (1 s or 10 s).

/** A virtual clock that remembers the period of every interval timer set on it. */
class PeriodClock extends VirtualClock {
  readonly periods: number[] = [];
  override setInterval(fn: () => void, ms: number): TimerHandle {
    this.periods.push(ms);
    return super.setInterval(fn, ms);
  }
}

const ctx = context(['t'], []);
const rule = (id: string) => `rules:\n  - id: ${id}\n    when: t > 1\n    then:\n      - clear: true\n`;

function setup(t: { after: (fn: () => void) => void }, opts: { createDir?: boolean; under?: string } = {}) {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-inotify-'));
  const dir = path.join(parent, opts.under ?? '', 'rules.d');
  if (opts.createDir !== false) fs.mkdirSync(dir);
  const clock = new PeriodClock();
  const arbiter = { hold: () => ({ ok: true }), release: () => {}, failsafe: () => false };
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent: () => {} });
  const watcher = new RuleWatcher({ dir, clock, log: silentLogger, publishEvent: () => {}, load: () => loadRuleSet(dir, ctx), apply: (set) => engine.load(set) });
  t.after(() => {
    watcher.stop();
    fs.rmSync(parent, { recursive: true, force: true });
  });
  const ids = () => engine.rules().map((r) => r.id);
  // Pending timers while nothing is debounced: the poll.
  let idle = 0;
  const start = () => {
    watcher.start();
    idle = clock.pending();
  };
  /** Wait (real time) until fs.watch reported something and the debounce is armed, then let it run. */
  const noticed = async (what: string) => {
    await waitFor(() => clock.pending() > idle, { timeoutMs: 5_000, what: `fs.watch to notice ${what}` });
    clock.advance(300);
  };
  return { parent, dir, clock, watcher, ids, start, noticed };
}

test('an edit in place, a rename over a file and a delete are picked up through fs.watch', async (t) => {
  const { dir, ids, start, noticed } = setup(t);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  start();
  assert.deepEqual(ids(), ['a']);

  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a2'));
  await noticed('the edit');
  assert.deepEqual(ids(), ['a2']);

  // An editor's save: write a hidden temporary file, rename it over the original.
  fs.writeFileSync(path.join(dir, '.a.yaml.swp'), rule('a3'));
  fs.renameSync(path.join(dir, '.a.yaml.swp'), path.join(dir, 'a.yaml'));
  await noticed('the rename over a.yaml');
  assert.deepEqual(ids(), ['a3']);

  fs.writeFileSync(path.join(dir, 'b.yaml'), rule('b'));
  await noticed('the new file');
  assert.deepEqual(ids(), ['a3', 'b']);

  fs.rmSync(path.join(dir, 'a.yaml'));
  await noticed('the delete');
  assert.deepEqual(ids(), ['b']);
});

test('a rules directory removed and created again is watched again: its files are picked up at once', async (t) => {
  const { dir, ids, start, noticed } = setup(t);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  start();
  assert.deepEqual(ids(), ['a']);

  fs.rmSync(dir, { recursive: true });
  await noticed('the directory removed');
  assert.deepEqual(ids(), ['a'], 'a missing directory is rejected: the rules that run keep running');

  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'b.yaml'), rule('b'));
  await noticed('the directory created again');
  assert.deepEqual(ids(), ['b']);

  // The new directory itself is watched, not only its creation.
  fs.writeFileSync(path.join(dir, 'c.yaml'), rule('c'));
  await noticed('a file in the new directory');
  assert.deepEqual(ids(), ['b', 'c']);
});

test('a rules directory that did not exist at start is picked up when it is created', async (t) => {
  const { dir, ids, start, noticed } = setup(t, { createDir: false });
  start();
  assert.deepEqual(ids(), []);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  await noticed('the directory created');
  assert.deepEqual(ids(), ['a']);
});

test('a rules directory that is a symlink re-pointed to another release is picked up at once', async (t) => {
  const { parent, dir, ids, start, noticed } = setup(t, { createDir: false });
  for (const v of ['v1', 'v2']) {
    fs.mkdirSync(path.join(parent, v));
    fs.writeFileSync(path.join(parent, v, 'r.yaml'), rule(v));
  }
  fs.symlinkSync(path.join(parent, 'v1'), dir);
  start();
  assert.deepEqual(ids(), ['v1']);
  // ln -sfn v2 rules.d, atomically: a new link renamed over the old one.
  fs.symlinkSync(path.join(parent, 'v2'), path.join(parent, 'rules.d.new'));
  fs.renameSync(path.join(parent, 'rules.d.new'), dir);
  await noticed('the symlink re-pointed');
  assert.deepEqual(ids(), ['v2']);
  fs.writeFileSync(path.join(parent, 'v2', 's.yaml'), rule('s'));
  await noticed('a file in the release the link points to now');
  assert.deepEqual(ids(), ['v2', 's'], 'r.yaml then s.yaml');
});

test('with fs.watch working, the safety poll runs every 10 s (not every second)', (t) => {
  const { clock, start } = setup(t);
  start();
  assert.deepEqual(clock.periods, [10_000]);
});

test('with neither the directory nor its parent there, it is polled every second until fs.watch can take over', async (t) => {
  const { dir, clock, ids, start, noticed } = setup(t, { createDir: false, under: 'etc' });
  start();
  assert.deepEqual(clock.periods, [1_000]);
  fs.mkdirSync(path.dirname(dir));
  clock.advance(1_000); // the poll finds the parent: watched now, so the poll slows down
  assert.deepEqual(clock.periods, [1_000, 10_000]);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  await noticed('the directory created in the parent now watched');
  assert.deepEqual(ids(), ['a']);
});

test('a directory renamed away and another renamed into its place is picked up at once', async (t) => {
  const { parent, dir, ids, start, noticed } = setup(t);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  fs.mkdirSync(path.join(parent, 'next'));
  fs.writeFileSync(path.join(parent, 'next', 'a.yaml'), rule('b'));
  start();
  assert.deepEqual(ids(), ['a']);
  fs.renameSync(dir, path.join(parent, 'old'));
  await noticed('the directory renamed away');
  fs.renameSync(path.join(parent, 'next'), dir);
  await noticed('the new directory renamed into place');
  assert.deepEqual(ids(), ['b']);
});

test('only the directory is watched while it is there: writes to files beside it wake nothing', (t) => {
  const { dir, start } = setup(t);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  const watches = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap').length;
  const before = watches();
  start();
  assert.equal(watches() - before, 1, 'one inotify watch: the directory, not its parent');
});
