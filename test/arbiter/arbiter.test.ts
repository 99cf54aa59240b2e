import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arbiter, type Owner } from '../../src/arbiter/arbiter';
import type { ControlEvent } from '../../src/arbiter/event';
import type { ActuatorConfig } from '../../src/config/actuator';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { actuator } from '../rules/helpers';
import { modbusTargetValue } from '../../drivers/modbus/target-value';

const T0 = Date.UTC(2026, 0, 1);
const rule: Owner = { key: 'rule:r', label: 'r', priority: 'rule' };
const safety: Owner = { key: 'rule:overtemp', label: 'overtemp', priority: 'safety' };
const command = (id: string): Owner => ({ key: 'command', label: `cmd:${id}`, priority: 'command' });

function setup(actuators: ActuatorConfig[], failures = 0) {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  const events: ControlEvent[] = [];
  let fail = failures;
  const arbiter = new Arbiter({
    actuators,
    clock,
    log: silentLogger,
    publishEvent: (e) => events.push(e),
    retry: { initialMs: 500, maxMs: 10_000, random: () => 1 },
    write: async (id, _target, value) => {
      writes.push(`${clock.now() - T0} ${id}=${String(value)}`);
      if (fail-- > 0) throw new Error('bus timeout');
    },
  });
  return { clock, writes, events, arbiter };
}

test('initial values at start; priorities rule < command < safety; releasing falls back', async () => {
  const { clock, writes, arbiter } = setup([actuator({ id: 'furnace', initial: true })]);
  arbiter.start();
  await clock.advanceAsync(0);
  assert.equal(arbiter.hold('furnace', rule, false).ok, true);
  await clock.advanceAsync(0);
  assert.equal(arbiter.hold('furnace', command('c1'), true).ok, true);
  await clock.advanceAsync(0);
  assert.equal(arbiter.hold('furnace', safety, false).ok, true);
  await clock.advanceAsync(0);
  assert.deepEqual(arbiter.status()[0].owner, 'overtemp');
  arbiter.release('furnace', safety.key); // command (true) is next
  await clock.advanceAsync(0);
  arbiter.release('furnace', 'command'); // then the rule (false)
  await clock.advanceAsync(0);
  arbiter.release('furnace', rule.key); // nothing held: back to initial (true)
  await clock.advanceAsync(0);
  assert.deepEqual(writes, [
    '0 furnace=true', // initial
    '0 furnace=false', // rule
    '0 furnace=true', // command beats rule
    '0 furnace=false', // safety beats command
    '0 furnace=true', // safety released: command
    '0 furnace=false', // command released: rule
    '0 furnace=true', // nothing held: initial
  ]);
});

test('a safety hold blocks a conflicting command with the reason; a matching one is accepted', async () => {
  const { clock, arbiter } = setup([actuator({ id: 'furnace', initial: true, cloud: true })]);
  arbiter.start();
  arbiter.hold('furnace', safety, false);
  await clock.advanceAsync(0);
  assert.deepEqual(arbiter.hold('furnace', command('c1'), true), { ok: false, error: 'blocked by safety rule overtemp' });
  assert.deepEqual(arbiter.hold('furnace', command('c2'), false), { ok: true, applied: false });
});

test('values are validated against type and range', () => {
  const { arbiter } = setup([actuator({ id: 'valve', type: 'number', min: 0, max: 100 }), actuator({ id: 'fan' })]);
  assert.match(arbiter.hold('valve', rule, 101).error ?? '', /above the maximum 100/);
  assert.match(arbiter.hold('fan', rule, 1).error ?? '', /must be true or false/);
  assert.match(arbiter.hold('nope', rule, 1).error ?? '', /unknown actuator "nope"/);
});

test('min on / min off defer a change until allowed (not dropped)', async () => {
  const { clock, writes, arbiter } = setup([actuator({ id: 'comp', initial: false, minOn: '10s', minOff: '5s' })]);
  arbiter.start(); // 0: off
  await clock.advanceAsync(1000);
  arbiter.hold('comp', rule, true); // off since 0, minOff 5 s → on at 5000
  await clock.advanceAsync(3999);
  assert.deepEqual(writes, ['0 comp=false']);
  await clock.advanceAsync(1);
  assert.deepEqual(writes, ['0 comp=false', '5000 comp=true']);
  await clock.advanceAsync(1000);
  arbiter.release('comp', rule.key); // on since 5000, minOn 10 s → off at 15000
  await clock.advanceAsync(8999);
  assert.equal(writes.length, 2);
  await clock.advanceAsync(1);
  assert.deepEqual(writes, ['0 comp=false', '5000 comp=true', '15000 comp=false']);
});

test('a failsafe hold ignores min on/off', async () => {
  const { clock, writes, arbiter } = setup([actuator({ id: 'comp', initial: true, minOn: '10s', failsafe: false })]);
  arbiter.start();
  await clock.advanceAsync(1000);
  assert.equal(arbiter.failsafe('comp', { key: 'failsafe:r', label: 'r', priority: 'failsafe' }), true);
  await clock.advanceAsync(0);
  assert.deepEqual(writes, ['0 comp=true', '1000 comp=false']);
});

test('max writes per minute: later changes wait for the window, only the latest value is written', async () => {
  const { clock, writes, arbiter } = setup([actuator({ id: 'v', type: 'number', maxWritesPerMinute: 2 })]);
  arbiter.start();
  arbiter.hold('v', rule, 1);
  await clock.advanceAsync(1000);
  arbiter.hold('v', rule, 2);
  await clock.advanceAsync(1000);
  arbiter.hold('v', rule, 3);
  await clock.advanceAsync(1000);
  arbiter.hold('v', rule, 4);
  assert.match(arbiter.hold('v', command('c'), 5).error ?? '', /rate limit: at most 2 writes per minute/);
  await clock.advanceAsync(56_999);
  assert.deepEqual(writes, ['0 v=1', '1000 v=2']);
  await clock.advanceAsync(1); // 60000: the write at 0 leaves the window
  assert.deepEqual(writes, ['0 v=1', '1000 v=2', '60000 v=4']);
});

test('failed writes are retried with backoff and reported in status and events', async () => {
  const { clock, writes, events, arbiter } = setup([actuator({ id: 'fan', initial: true })], 2);
  arbiter.start();
  await clock.advanceAsync(0);
  assert.equal(arbiter.status()[0].failing, true);
  assert.equal(arbiter.status()[0].lastError, 'bus timeout');
  await clock.advanceAsync(2000);
  // backoff caps with random=1: 500 ms, then 1000 ms
  assert.deepEqual(writes, ['0 fan=true', '500 fan=true', '1500 fan=true']);
  const st = arbiter.status()[0];
  assert.deepEqual([st.value, st.errors, st.failing, st.writes], [true, 2, false, 1]);
  assert.deepEqual(events.map((e) => e.type), ['actuator.error', 'actuator.recovered']);
});

test('writes are serialised per actuator: a change during a write waits for it', async () => {
  const clock = new VirtualClock(T0);
  const log: string[] = [];
  let finish: (() => void) | undefined;
  const arbiter = new Arbiter({
    actuators: [actuator({ id: 'v', type: 'number' })],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    write: (_id, _t, value) => {
      log.push(`start ${String(value)}`);
      return new Promise<void>((resolve) => {
        finish = () => {
          log.push(`end ${String(value)}`);
          resolve();
        };
      });
    },
  });
  arbiter.start();
  arbiter.hold('v', rule, 1);
  arbiter.hold('v', rule, 2);
  arbiter.hold('v', rule, 3);
  await clock.advanceAsync(0);
  finish?.();
  await clock.advanceAsync(0);
  finish?.();
  await clock.advanceAsync(0);
  assert.deepEqual(log, ['start 1', 'end 1', 'start 3', 'end 3']);
});

test('shutdown applies failsafe where failsafeOnShutdown and clears timers', async () => {
  const { clock, writes, arbiter } = setup([
    actuator({ id: 'furnace', initial: true, failsafe: false }),
    actuator({ id: 'light', initial: true, failsafe: false, failsafeOnShutdown: false }),
    actuator({ id: 'comp', initial: false, minOff: '1m' }),
  ]);
  arbiter.start();
  await clock.advanceAsync(0);
  arbiter.hold('comp', rule, true); // deferred by minOff: a timer is pending
  await arbiter.shutdown();
  assert.deepEqual(writes.sort(), ['0 comp=false', '0 furnace=false', '0 furnace=true', '0 light=true']);
  assert.equal(clock.pending(), 0);
});

test('a rule value the target cannot hold exactly is rounded to what it holds (traced); one it cannot hold at all is refused', async () => {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  const traces: string[] = [];
  const arbiter = new Arbiter({
    actuators: [actuator({ id: 'setpoint', type: 'number', driver: 'bus', target: { device: 'plc', register: 'holding', address: 7, type: 'int16' } })],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    targetValue: (a, v) => (a.driver === 'bus' ? modbusTargetValue(a.target, v) : undefined),
    trace: (t) => traces.push(`${t.actuator}: ${t.detail}`),
    write: async (id, _t, value) => {
      writes.push(`${id}=${String(value)}`);
    },
  });
  arbiter.start();
  assert.deepEqual(arbiter.hold('setpoint', rule, 12.7), { ok: true, applied: 13 });
  await clock.advanceAsync(0);
  assert.deepEqual(writes, ['setpoint=13']);
  assert.deepEqual(traces, ['setpoint: 12.7 from r rounded to 13: its target cannot hold 12.7 exactly']);
  assert.equal(arbiter.status()[0].value, 13, 'status says what the register holds');
  arbiter.hold('setpoint', rule, 12.7);
  assert.equal(traces.length, 1, 'the same rounded value again is not traced again');
  assert.deepEqual(arbiter.hold('setpoint', rule, 70000), { ok: false, error: '70000 does not fit the int16 register 7; not written' });
  await clock.advanceAsync(0);
  assert.deepEqual(writes, ['setpoint=13']);
});
