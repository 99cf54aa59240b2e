import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ControlEvent } from '../../src/arbiter/event';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { LastKnownGood } from '../../src/rules/last-known-good';
import { loadRuleSet, parseRuleTexts, type RuleContext } from '../../src/rules/load';
import { RuleWatcher } from '../../src/rules/watcher';
import { tempDir } from '../helpers/temp';
import { context } from '../rules/helpers';

const rule = (id: string, sensor = 't') => `rules:\n  - id: ${id}\n    when: ${sensor} > 1\n    then:\n      - event: { severity: info, message: "${id}" }\n`;

function watcherFor(t: Parameters<typeof tempDir>[0], ctx: RuleContext) {
  const root = tempDir(t, 'fg-lkg-');
  const dir = path.join(root, 'rules.d');
  fs.mkdirSync(dir);
  const events: ControlEvent[] = [];
  const applied: string[][] = [];
  const none: boolean[] = [];
  const store = new LastKnownGood(path.join(root, 'state', 'rules', 'last-known-good.json'), silentLogger);
  const watcher = new RuleWatcher({
    dir,
    clock: new VirtualClock(Date.UTC(2026, 0, 1)),
    log: silentLogger,
    publishEvent: (e) => events.push(e),
    load: () => loadRuleSet(dir, ctx),
    apply: (set) => applied.push(set.rules.map((r) => r.config.id)),
    lastKnownGood: { store, parse: (texts) => parseRuleTexts(texts, ctx) },
    onNoRules: (n) => none.push(n),
    watch: false,
  });
  return { dir, root, store, watcher, events, applied, none };
}

test('an accepted set is stored; an invalid directory at start-up runs it, validated again', (t) => {
  const ctx = context(['t'], []);
  const a = watcherFor(t, ctx);
  fs.writeFileSync(path.join(a.dir, 'a.yaml'), rule('a'));
  a.watcher.reload();
  assert.equal(a.watcher.status().running, 'rules-dir');
  assert.ok(fs.existsSync(a.store.file));
  // A new process (new watcher) on the same state, with a broken file added.
  fs.writeFileSync(path.join(a.dir, 'b.yaml'), rule('b', 'nosuch'));
  const b = new RuleWatcher({
    dir: a.dir,
    clock: new VirtualClock(Date.UTC(2026, 0, 2)),
    log: silentLogger,
    publishEvent: (e) => a.events.push(e),
    load: () => loadRuleSet(a.dir, ctx),
    apply: (set) => a.applied.push(set.rules.map((r) => r.config.id)),
    lastKnownGood: { store: new LastKnownGood(a.store.file, silentLogger), parse: (texts) => parseRuleTexts(texts, ctx) },
    onNoRules: (n) => a.none.push(n),
    watch: false,
  });
  b.reload();
  assert.deepEqual(a.applied, [['a'], ['a']]);
  assert.equal(b.status().running, 'last-known-good');
  assert.equal(b.status().acceptedAt, Date.UTC(2026, 0, 1));
  assert.deepEqual(a.none, []);
});

test('a last-known-good set that no longer fits the config, or a corrupt one, means no rules: onNoRules(true), then (false) once fixed', (t) => {
  const w = watcherFor(t, context(['u'], []));
  fs.mkdirSync(path.dirname(w.store.file), { recursive: true });
  // Stored when sensor t existed; the config now has only u.
  w.store.save({ acceptedAt: 1, dir: w.dir, files: [{ file: path.join(w.dir, 'a.yaml'), text: rule('a') }] });
  fs.writeFileSync(path.join(w.dir, 'a.yaml'), rule('a', 'nosuch'));
  w.watcher.reload();
  assert.equal(w.watcher.status().running, 'none');
  assert.deepEqual(w.none, [true]);
  assert.match(w.events.at(-1)?.message ?? '', /there is no valid last-known-good set: no rules run and every actuator is held at its failsafe value/);
  fs.writeFileSync(path.join(w.dir, 'a.yaml'), rule('a', 'u'));
  w.watcher.reload();
  assert.equal(w.watcher.status().running, 'rules-dir');
  assert.deepEqual(w.none, [true, false]);

  const c = watcherFor(t, context(['u'], []));
  fs.mkdirSync(path.dirname(c.store.file), { recursive: true });
  fs.writeFileSync(c.store.file, '{"version":1,"acceptedAt":');
  fs.writeFileSync(path.join(c.dir, 'a.yaml'), rule('a', 'nosuch'));
  c.watcher.reload();
  assert.equal(c.watcher.status().running, 'none');
});

test('a missing rules directory on a fresh install runs no rules without holding failsafes; with a stored set it is a rejection', (t) => {
  const w = watcherFor(t, context(['t'], []));
  fs.rmSync(w.dir, { recursive: true });
  w.watcher.reload();
  assert.equal(w.watcher.status().running, 'rules-dir');
  assert.deepEqual(w.none, []);
  const s = watcherFor(t, context(['t'], []));
  fs.mkdirSync(path.dirname(s.store.file), { recursive: true });
  s.store.save({ acceptedAt: 5, dir: s.dir, files: [{ file: path.join(s.dir, 'a.yaml'), text: rule('a') }] });
  fs.rmSync(s.dir, { recursive: true });
  s.watcher.reload();
  assert.equal(s.watcher.status().running, 'last-known-good');
  assert.match(s.watcher.status().lastReloadError ?? '', /cannot read rules directory: ENOENT/);
});
