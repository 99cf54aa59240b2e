import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ControlEvent } from '../../src/arbiter/event';
import { systemClock, VirtualClock, type Clock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { RulesEngine } from '../../src/rules/engine';
import { loadRuleSet } from '../../src/rules/load';
import { RuleWatcher } from '../../src/rules/watcher';
import { context } from './helpers';

const ctx = context(['t'], []);
const rule = (id: string) => `rules:\n  - id: ${id}\n    when: t > 1\n    then:\n      - clear: true\n`;

function setup(t: { after: (fn: () => void) => void }, clock: Clock, watch: boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-watch-'));
  const events: ControlEvent[] = [];
  const arbiter = { hold: () => ({ ok: true }), release: () => {}, failsafe: () => false };
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent: (e) => events.push(e) });
  const watcher = new RuleWatcher({
    dir,
    clock,
    log: silentLogger,
    publishEvent: (e) => events.push(e),
    load: () => loadRuleSet(dir, ctx),
    apply: (set) => engine.load(set),
    watch,
  });
  t.after(() => {
    watcher.stop();
    engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, events, engine, watcher };
}

const ids = (engine: RulesEngine) => engine.rules().map((r) => r.id);

test('a rule set with an error on reload is rejected as a whole; the old set keeps running', (t) => {
  const clock = new VirtualClock();
  const { dir, events, engine, watcher } = setup(t, clock, false);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  assert.ok(watcher.start().ok);
  assert.deepEqual(ids(engine), ['a']);

  fs.writeFileSync(path.join(dir, 'b.yaml'), rule('b'));
  fs.writeFileSync(path.join(dir, 'c.yaml'), 'rules:\n  - id: c\n    when: t >\n    then:\n      - clear: true\n');
  clock.advance(1300); // poll at 1000 ms + 300 ms debounce
  assert.deepEqual(ids(engine), ['a'], 'b.yaml is valid but the set as a whole is not');
  const rejected = events.find((e) => e.type === 'rules.rejected');
  assert.ok(rejected);
  assert.deepEqual(rejected.details?.problems, [`${path.join(dir, 'c.yaml')}:3:14: unexpected end of expression; expected a value`]);
  assert.match(watcher.status().lastReloadError ?? '', /c\.yaml:3:14/);

  fs.rmSync(path.join(dir, 'c.yaml'));
  clock.advance(1300);
  assert.deepEqual(ids(engine), ['a', 'b']);
  assert.equal(watcher.status().lastReloadError, undefined);
  assert.equal(events.at(-1)?.type, 'rules.loaded');
});

test('deleting every rule file empties the set', (t) => {
  const clock = new VirtualClock();
  const { dir, engine, watcher } = setup(t, clock, false);
  fs.writeFileSync(path.join(dir, 'a.yaml'), rule('a'));
  watcher.start();
  fs.rmSync(path.join(dir, 'a.yaml'));
  clock.advance(1300);
  assert.deepEqual(ids(engine), []);
  watcher.stop();
  assert.equal(clock.pending(), 0);
});

test('an added file takes effect within 2 s on the real clock', async (t) => {
  const { dir, engine, watcher } = setup(t, systemClock, true);
  watcher.start();
  const started = Date.now();
  fs.writeFileSync(path.join(dir, 'new.yaml'), rule('new'));
  while (ids(engine).length === 0 && Date.now() - started < 2000) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(ids(engine), ['new']);
  assert.ok(Date.now() - started < 2000);
});
