import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HoldResult, Owner } from '../../src/arbiter/arbiter';
import type { ControlEvent } from '../../src/arbiter/event';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { reading, type Quality } from '../../src/core/reading';
import { RulesEngine } from '../../src/rules/engine';
import type { IntentTarget } from '../../src/rules/rule-runtime';
import { ruleSet } from './helpers';

const T0 = Date.UTC(2026, 0, 1);

/** Records what the engine asks of the arbiter, with the virtual time offset from T0. */
class FakeArbiter implements IntentTarget {
  calls: string[] = [];
  constructor(private readonly clock: VirtualClock) {}
  hold(actuator: string, owner: Owner, value: boolean | number): HoldResult {
    this.calls.push(`${this.clock.now() - T0} hold ${actuator}=${String(value)} by ${owner.key} (${owner.priority})`);
    return { ok: true, applied: value };
  }
  release(actuator: string, ownerKey: string): void {
    this.calls.push(`${this.clock.now() - T0} release ${actuator} by ${ownerKey}`);
  }
  failsafe(actuator: string, owner: Owner): boolean {
    this.calls.push(`${this.clock.now() - T0} failsafe ${actuator} by ${owner.key}`);
    return true;
  }
  /** Hold calls only (releases of absent holds are no-ops in the real arbiter). */
  holds(): string[] {
    return this.calls.filter((c) => c.includes(' hold ') || c.includes(' failsafe '));
  }
}

function setup(yaml: string, opts: { staleCheckMs?: number } = {}) {
  const clock = new VirtualClock(T0);
  const arbiter = new FakeArbiter(clock);
  const events: ControlEvent[] = [];
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent: (e) => events.push(e), staleCheckMs: opts.staleCheckMs ?? 1000 });
  engine.load(ruleSet(yaml));
  engine.start();
  const feed = (sensor: string, value: number, quality: Quality = 'good') => engine.accept(reading(sensor, clock.now(), value, quality));
  return { clock, arbiter, events, engine, feed };
}

const OVERTEMP = `
rules:
  - id: overtemp
    safety: true
    when: t > 80
    for: 5s
    maxAge: 1h
    then:
      - set: { actuator: furnace, value: false }
`;

test('for: fires at exactly t0 + for, without a new reading', () => {
  const { clock, arbiter, engine, feed } = setup(OVERTEMP);
  feed('t', 81);
  assert.equal(engine.rules()[0].state, 'pending');
  clock.advance(4999);
  assert.deepEqual(arbiter.holds(), []);
  clock.advance(1);
  assert.deepEqual(arbiter.holds(), ['5000 hold furnace=false by rule:overtemp (safety)']);
  assert.equal(engine.rules()[0].state, 'active');
  assert.equal(engine.rules()[0].lastFired, T0 + 5000);
  engine.stop();
  assert.equal(clock.pending(), 0);
});

test('for: the condition must hold continuously; a dip restarts the wait', () => {
  const { clock, arbiter, feed } = setup(OVERTEMP);
  feed('t', 81); // pending from 0
  clock.advance(3000);
  feed('t', 79); // back to idle at 3000
  clock.advance(1000);
  feed('t', 81); // pending again from 4000 → fires at 9000
  clock.advance(4999);
  assert.deepEqual(arbiter.holds(), []);
  clock.advance(1);
  assert.deepEqual(arbiter.holds(), ['9000 hold furnace=false by rule:overtemp (safety)']);
});

test('hysteresis: a noisy signal around the threshold does not chatter', () => {
  const { clock, arbiter, feed } = setup(`
rules:
  - id: overtemp
    when: t > 80
    until: t < 75
    maxAge: 1h
    then:
      - set: { actuator: furnace, value: false }
`);
  // one reading a second; noise of ±2 around 80, then a drop below 75, then back above 80
  const signal = [79, 81, 79.5, 80.5, 78, 82, 79, 81.5, 78.5, 80.1, 76, 77, 74.9, 76, 79, 80, 78, 80.2];
  for (const v of signal) {
    feed('t', v);
    clock.advance(1000);
  }
  // Fires at the first value above 80 (81 at 1 s), releases only below 75 (74.9 at 12 s), fires again at 80.2 (17 s).
  assert.deepEqual(
    arbiter.calls.filter((c) => !c.includes('rule-else')),
    ['1000 hold furnace=false by rule:overtemp (rule)', '12000 release furnace by rule:overtemp', '17000 hold furnace=false by rule:overtemp (rule)'],
  );
});

test('cooldown: after releasing, the rule rests; at the end it re-evaluates the latest values', () => {
  const { clock, arbiter, engine, feed } = setup(`
rules:
  - id: hot
    when: t > 80
    cooldown: 10s
    maxAge: 1h
    then:
      - set: { actuator: fan, value: true }
`);
  feed('t', 81); // fires at 0
  clock.advance(1000);
  feed('t', 79); // releases at 1000 → cooldown until 11000
  assert.equal(engine.rules()[0].state, 'cooldown');
  clock.advance(1000);
  feed('t', 85); // ignored during cooldown
  clock.advance(8999);
  assert.deepEqual(arbiter.holds(), ['0 hold fan=true by rule:hot (rule)']);
  clock.advance(1); // 11000: cooldown over, t is still 85 → fires
  assert.deepEqual(arbiter.holds(), ['0 hold fan=true by rule:hot (rule)', '11000 hold fan=true by rule:hot (rule)']);
});

test('then/else: events with interpolated values, clear, and else holds at normal priority', () => {
  const { clock, arbiter, events, feed } = setup(`
rules:
  - id: dry
    safety: true
    when: flow < 0.5 and pump > 0
    maxAge: 1h
    then:
      - set: { actuator: pump, value: false }
      - event: { severity: critical, message: "Pump running dry: flow {flow} l/min" }
    else:
      - set: { actuator: pump, value: true }
      - clear: Pump flow back to normal
`);
  feed('pump', 1);
  feed('flow', 0.25);
  clock.advance(1000);
  feed('flow', 2);
  assert.deepEqual(arbiter.holds(), ['0 hold pump=false by rule:dry (safety)', '1000 hold pump=true by rule-else:dry (rule)']);
  assert.deepEqual(
    events.map((e) => [e.ts - T0, e.type, e.severity, e.source, e.message]),
    [
      [0, 'alarm', 'critical', 'dry', 'Pump running dry: flow 0.25 l/min'],
      [1000, 'alarm.clear', 'info', 'dry', 'Pump flow back to normal'],
    ],
  );
});

test('staleness: failsafe once an input is older than maxAge; lifted by a fresh reading', () => {
  const { clock, arbiter, events, feed } = setup(`
rules:
  - id: hot
    when: t > 80
    maxAge: 10s
    then:
      - set: { actuator: furnace, value: false }
`);
  feed('t', 20);
  clock.advance(10_000); // age exactly 10 s: not yet stale
  assert.deepEqual(arbiter.holds(), []);
  clock.advance(1000); // the 11 s check sees age 11 s > 10 s
  assert.deepEqual(arbiter.holds(), ['11000 failsafe furnace by failsafe:hot']);
  assert.equal(events.at(-1)?.type, 'failsafe');
  clock.advance(500);
  feed('t', 20);
  assert.equal(arbiter.calls.at(-1), '11500 release furnace by failsafe:hot');
  assert.equal(events.at(-1)?.type, 'failsafe.clear');
});

test('a bad-quality reading applies the failsafe at once; a good one lifts it', () => {
  const { arbiter, feed } = setup(OVERTEMP);
  feed('t', 20, 'bad');
  assert.deepEqual(arbiter.holds(), ['0 failsafe furnace by failsafe:overtemp']);
  feed('t', 20, 'good');
  assert.equal(arbiter.calls.at(-1), '0 release furnace by failsafe:overtemp');
});

test('an input that never reports is stale maxAge after load', () => {
  const { clock, arbiter } = setup(`
rules:
  - id: hot
    when: t > 80
    maxAge: 5s
    then:
      - set: { actuator: furnace, value: false }
`);
  clock.advance(5000);
  assert.deepEqual(arbiter.holds(), []);
  clock.advance(1000);
  assert.deepEqual(arbiter.holds(), ['6000 failsafe furnace by failsafe:hot']);
});

test('PID step response on the clock matches the hand-computed outputs', () => {
  const { clock, arbiter, feed } = setup(`
rules:
  - id: boiler
    maxAge: 1h
    pid: { input: temp, setpoint: 50, kp: 2, ki: 0.5, kd: 1, output: valve, min: 0, max: 100, sampleTime: 1s }
`);
  // e = 50 - input; I += 0.5·e·1 (clamped 0..100); D = -1·Δinput/1; out = 2e + I + D
  feed('temp', 40);
  clock.advance(1000); // e=10: I=5, D=0 → 25
  clock.advance(1000); // e=10: I=10, D=0 → 30
  feed('temp', 45);
  clock.advance(1000); // e=5: I=12.5, D=-5 → 17.5
  feed('temp', 50);
  clock.advance(1000); // e=0: I=12.5, D=-5 → 7.5
  assert.deepEqual(arbiter.holds(), [
    '1000 hold valve=25 by rule:boiler (rule)',
    '2000 hold valve=30 by rule:boiler (rule)',
    '3000 hold valve=17.5 by rule:boiler (rule)',
    '4000 hold valve=7.5 by rule:boiler (rule)',
  ]);
});

test('only rules that reference a sensor are evaluated on its readings', () => {
  const { engine, feed } = setup(OVERTEMP);
  feed('other', 1);
  assert.equal(engine.evaluations, 0);
  feed('t', 1);
  assert.equal(engine.evaluations, 1);
});

test('reload keeps the state of unchanged rules and releases removed ones', () => {
  const { clock, arbiter, engine, feed } = setup(OVERTEMP);
  feed('t', 81);
  clock.advance(5000);
  assert.equal(engine.rules()[0].state, 'active');
  engine.load(ruleSet(OVERTEMP + '  - id: other\n    when: u > 1\n    then:\n      - clear: true\n'));
  assert.equal(engine.rules()[0].state, 'active');
  assert.equal(arbiter.calls.filter((c) => c.includes('release furnace by rule:overtemp')).length, 0);
  engine.load(ruleSet('rules: []\n'));
  assert.deepEqual(engine.rules(), []);
  assert.ok(arbiter.calls.includes('5000 release furnace by rule:overtemp'));
  engine.stop();
  assert.equal(clock.pending(), 0);
});
