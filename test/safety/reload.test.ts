import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arbiter } from '../../src/arbiter/arbiter';
import type { ControlEvent } from '../../src/arbiter/event';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { reading } from '../../src/core/reading';
import { RulesEngine } from '../../src/rules/engine';
import { actuator, ruleSet } from '../rules/helpers';

// Issue 10, cases 3 and 5: hot reload keeps a rule's state by its id; removing a rule
// clears its alarm and releases its holds with no moment in which a lower priority wins.

const T0 = Date.UTC(2026, 0, 1);

function setup() {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  const events: ControlEvent[] = [];
  const arbiter = new Arbiter({
    actuators: [actuator({ id: 'furnace', initial: true, failsafe: false })],
    clock,
    log: silentLogger,
    publishEvent: (e) => events.push(e),
    write: async (id, _target, value) => {
      writes.push(`${(clock.now() - T0) / 1000}s ${id}=${String(value)}`);
    },
  });
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent: (e) => events.push(e) });
  arbiter.start();
  engine.start();
  const feed = (v: number) => engine.accept(reading('furnace.temp', clock.now(), v, 'good'));
  const alarms = () => events.filter((e) => e.type === 'alarm' || e.type === 'alarm.clear').map((e) => `${e.type} ${e.source}: ${e.message}`);
  return { clock, writes, events, arbiter, engine, feed, alarms };
}

const furnaceRule = (o: { description?: string; when?: string; until?: string; id?: string; message?: string } = {}) => `rules:
  - id: ${o.id ?? 'furnace-overtemp'}
    description: ${o.description ?? 'Cut the furnace above 80 °C'}
    safety: true
    when: ${o.when ?? 'furnace.temp > 80'}
    for: 5s
    until: ${o.until ?? 'furnace.temp < 75'}
    maxAge: 1h
    then:
      - set: { actuator: furnace, value: false }
      - event: { severity: critical, message: "${o.message ?? 'Furnace over temperature'}" }
    else:
      - set: { actuator: furnace, value: true }
      - clear: Furnace back below 75 °C
`;

async function activeAt84() {
  const s = setup();
  s.engine.load(ruleSet(furnaceRule()));
  await s.clock.advanceAsync(0);
  s.feed(84);
  await s.clock.advanceAsync(5000);
  s.feed(84);
  await s.clock.advanceAsync(0);
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false']);
  assert.deepEqual(s.alarms(), ['alarm furnace-overtemp: Furnace over temperature']);
  return s;
}

test('editing only the description (or an event text) of an active safety rule keeps its interlock and alarm', async () => {
  const s = await activeAt84();
  s.engine.load(ruleSet(furnaceRule({ description: 'Cut the burner above 80 °C (edited)', message: 'Over temperature (new text)' })));
  await s.clock.advanceAsync(10_000);
  s.feed(84);
  await s.clock.advanceAsync(0);
  assert.equal(s.engine.rules()[0].state, 'active');
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false'], 'the burner is never switched back on');
  assert.deepEqual(s.alarms(), ['alarm furnace-overtemp: Furnace over temperature'], 'no second alarm');
});

test('a changed condition of an active safety rule keeps its hold until the new release condition is true', async () => {
  const s = await activeAt84();
  // New threshold and hysteresis: 84 °C is still above "until < 70" → the hold stays.
  s.engine.load(ruleSet(furnaceRule({ when: 'furnace.temp > 82', until: 'furnace.temp < 70' })));
  await s.clock.advanceAsync(1000);
  s.feed(72);
  await s.clock.advanceAsync(1000);
  assert.equal(s.engine.rules()[0].state, 'active');
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false']);
  s.feed(69);
  await s.clock.advanceAsync(0);
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false', '7s furnace=true']);
  assert.deepEqual(s.alarms(), ['alarm furnace-overtemp: Furnace over temperature', 'alarm.clear furnace-overtemp: Furnace back below 75 °C']);
});

test('a changed condition that is already false on the current input releases at the reload', async () => {
  const s = await activeAt84();
  s.engine.load(ruleSet(furnaceRule({ when: 'furnace.temp > 90', until: 'furnace.temp < 88' })));
  await s.clock.advanceAsync(0);
  assert.equal(s.engine.rules()[0].state, 'idle');
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false', '5s furnace=true']);
  assert.deepEqual(s.alarms(), ['alarm furnace-overtemp: Furnace over temperature', 'alarm.clear furnace-overtemp: Furnace back below 75 °C'], 'released through its else');
});

test('removing a rule with an active alarm clears the alarm (reason: rule removed) and releases its holds', async () => {
  const s = await activeAt84();
  s.engine.load(ruleSet('rules: []\n'));
  await s.clock.advanceAsync(0);
  const clear = s.events.find((e) => e.type === 'alarm.clear');
  assert.ok(clear, 'alarm.clear published');
  assert.equal(clear.source, 'furnace-overtemp');
  assert.match(clear.message, /rule removed/);
  assert.deepEqual((clear.details as { reason?: string } | undefined)?.reason, 'rule removed');
  // The hold is gone: the actuator goes back to its initial value.
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false', '5s furnace=true']);
});

test('renaming an active interlock (removed and added in one reload) never lets a lower priority win in between', async () => {
  const s = await activeAt84();
  s.engine.load(ruleSet(furnaceRule({ id: 'furnace-cut', when: 'furnace.temp > 80' }).replace('for: 5s', 'for: 0s')));
  await s.clock.advanceAsync(0);
  assert.equal(s.engine.rules()[0].state, 'active');
  assert.deepEqual(s.writes, ['0s furnace=true', '5s furnace=false'], 'no write of the initial value between the two rules');
});
