import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { ClockSyncProbe } from '../../src/daemon/clock-sync';

function tmpRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fg-clock-'));
}

test('a clock before 2025 is never trusted', () => {
  const probe = new ClockSyncProbe('auto', new VirtualClock(Date.UTC(2019, 5, 1)), tmpRoot());
  assert.equal(probe.isSynced(), false);
});

test('with timesyncd running, the synchronized flag file decides (re-checked every 10 s)', () => {
  const root = tmpRoot();
  fs.mkdirSync(path.join(root, 'run/systemd/timesync'), { recursive: true });
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const probe = new ClockSyncProbe('auto', clock, root);
  assert.equal(probe.isSynced(), false);
  fs.writeFileSync(path.join(root, 'run/systemd/timesync/synchronized'), '');
  clock.advance(5_000);
  assert.equal(probe.isSynced(), false, 'cached for 10 s');
  clock.advance(5_000);
  assert.equal(probe.isSynced(), true);
});

test('assume mode trusts any clock', () => {
  assert.equal(new ClockSyncProbe('assume', new VirtualClock(0), tmpRoot()).isSynced(), true);
});

test('an old sample time does not keep a stale answer past 10 s of the clock', () => {
  const root = tmpRoot();
  fs.mkdirSync(path.join(root, 'run/systemd/timesync'), { recursive: true });
  const t0 = Date.UTC(2026, 0, 1);
  const clock = new VirtualClock(t0);
  const probe = new ClockSyncProbe('auto', clock, root);
  assert.equal(probe.isSynced(), false);
  fs.writeFileSync(path.join(root, 'run/systemd/timesync/synchronized'), '');
  clock.advance(60_000);
  assert.equal(probe.isSynced(t0 - 1), true, 'a sample from before the answer: the clock is read, and it is a minute on');
});
