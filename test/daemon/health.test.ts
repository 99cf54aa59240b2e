import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlEvent } from '../../src/arbiter/event';
import { assessHealth, EvictionWatch, type HealthInputs } from '../../src/daemon/health';
import { SensorMonitor, type SensorView } from '../../src/daemon/sensor-monitor';
import type { SensorRow } from '../../src/daemon/view';

const base: HealthInputs = {
  drivers: [{ id: 'sim', kind: 'sim', state: 'running', restarts: 0, errors: 0 }],
  sensors: [],
  failsafeRules: [],
  actuators: [],
  uplink: { state: 'online' },
  outbox: { depth: 0, messages: 0, evicted: 0, rejected: 0, bytes: 0 },
  recentlyEvicted: 0,
  withoutFailsafe: [],
};

test('levels: ok; degraded for a failing device, a bad sensor, a failsafe; failed when no rules run or a write keeps failing', () => {
  assert.deepEqual(assessHealth(base), { level: 'ok', issues: [] });
  const degraded = assessHealth({
    ...base,
    drivers: [{ id: 'rs485', kind: 'modbus', state: 'running', restarts: 0, errors: 3, detail: { link: 'open', devices: { 'meter-3': { status: 'degraded', lastError: 'timeout' } } } }],
    sensors: [{ id: 'p', driver: 'rs485', stale: false, quality: 'bad', errors: 0 }],
    failsafeRules: ['pump-dry'],
  });
  assert.equal(degraded.level, 'degraded');
  assert.deepEqual(degraded.issues.map((i) => i.component), ['device:rs485/meter-3', 'sensor:p', 'failsafe:pump-dry']);
  const failed = assessHealth({ ...base, rules: { loaded: 0, rejected: 1, running: 'none', lastReloadError: 'r.yaml:3:11: unknown sensor "x"' }, withoutFailsafe: ['lamp'] });
  assert.equal(failed.level, 'failed');
  assert.match(failed.issues.at(-1)?.message ?? '', /none running; every actuator is held at its failsafe value \(no failsafe value, left as they are: lamp\)/);
  const writing = assessHealth({ ...base, actuators: [{ id: 'valve', writes: 0, errors: 4, failing: true, lastError: 'exception 2' }] });
  assert.equal(writing.level, 'failed');
});

test('a thousand stale sensors are ten problems and a count, not a thousand lines', () => {
  const sensors: SensorRow[] = Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, driver: 'd', stale: true, errors: 0 }));
  const h = assessHealth({ ...base, sensors });
  assert.equal(h.issues.length, 11);
  assert.equal(h.issues.at(-1)?.message, '990 more sensor(s) stale');
});

test('the outbox counts as evicting for 5 minutes after it last evicted', () => {
  const w = new EvictionWatch();
  assert.equal(w.recent(0, 500), 0, 'an old persistent count is not recent');
  assert.equal(w.recent(1000, 600), 100);
  assert.equal(w.recent(300_999, 600), 100);
  assert.equal(w.recent(301_000, 600), 0);
});

test('sensor events: one per change, rate-limited per sensor (4 a minute), bad → stale always told, a summary for many', () => {
  const events: ControlEvent[] = [];
  const m = new SensorMonitor({ publishEvent: (e) => events.push(e) });
  const row = (stale: boolean, quality = 'good'): SensorRow[] => [{ id: 'a', driver: 'd', stale, quality, errors: 0, ts: 0, ageMs: 5000 }];
  m.check(0, row(false));
  assert.equal(events.length, 0, 'nothing to say while ok');
  // Flapping every second: stale, recovered, stale, recovered, then the limit holds.
  for (let s = 1; s <= 8; s++) m.check(s * 1000, row(s % 2 === 1));
  assert.deepEqual(events.map((e) => e.type), ['sensor.stale', 'sensor.recovered', 'sensor.stale', 'sensor.recovered']);
  // 61 s after the first event the window allows one more: the current truth (stale at s=9).
  m.check(61_000, row(true));
  assert.equal(events.at(-1)?.type, 'sensor.stale');
  const b = new SensorMonitor({ publishEvent: (e) => events.push(e), burst: 1 });
  events.length = 0;
  b.check(0, row(false, 'bad'));
  b.check(1000, row(true));
  assert.deepEqual(events.map((e) => e.type), ['sensor.bad', 'sensor.stale'], 'bad → stale passes the limit');
  events.length = 0;
  const many = new SensorMonitor({ publishEvent: (e) => events.push(e) });
  many.check(0, Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, driver: 'bus1', stale: true, errors: 0 })));
  assert.equal(events.length, 1);
  assert.equal(events[0].message, '30 sensors stale: s0, s1, s2, s3, s4, …');
  assert.deepEqual(events[0].details?.drivers, ['bus1']);
});

test('sensor events from a view: healthy sensors build no row, only a changed one does', () => {
  const events: ControlEvent[] = [];
  const m = new SensorMonitor({ publishEvent: (e) => events.push(e) });
  type State = { id: string; stale: boolean };
  const states: State[] = Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, stale: false }));
  let rows = 0;
  const view: SensorView<State> = {
    id: (s) => s.id,
    condition: (s) => (s.stale ? 'stale' : 'ok'),
    row: (s) => (rows++, { id: s.id, driver: 'd', stale: s.stale, errors: 0 }),
  };
  m.check(0, states, view);
  assert.equal(rows, 0);
  states[7].stale = true;
  m.check(1000, states, view);
  assert.equal(rows, 1);
  assert.deepEqual(events.map((e) => [e.type, e.source]), [['sensor.stale', 's7']]);
  m.check(2000, states, view);
  assert.equal(rows, 1, 'a condition already published is not built again');
});
