import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Arbiter } from '../../src/arbiter/arbiter';
import { CommandHandler, type CommandResult } from '../../src/commands/commands';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { exceptionError, ModbusError } from '../../drivers/modbus/errors';
import { modbusTargetValue } from '../../drivers/modbus/target-value';
import { actuator } from '../rules/helpers';

/**
 * A result says what the driver answered: applied only after the write resolved,
 * failed when it rejected (at once for a permanent error, after the configured
 * attempts for a transient one), pending while a gate defers it.
 */
const T0 = Date.UTC(2026, 0, 1);
const cmd = (o: unknown) => Buffer.from(JSON.stringify(o));

function setup(failWith?: (value: boolean | number, attempt: number) => Error | undefined) {
  const clock = new VirtualClock(T0);
  const writes: string[] = [];
  let attempts = 0;
  const arbiter = new Arbiter({
    actuators: [
      actuator({ id: 'heater', cloud: true, minOff: '10s' }),
      actuator({ id: 'setpoint', type: 'number', cloud: true, driver: 'bus', target: { device: 'plc', register: 'holding', address: 7, type: 'int16' } }),
      actuator({ id: 'flow', type: 'number', cloud: true, round: true, driver: 'bus', target: { device: 'plc', register: 'holding', address: 8, type: 'uint16', scale: 0.5 } }),
    ],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    retry: { initialMs: 1000, maxMs: 1000, random: () => 1 },
    write: async (id, _t, value) => {
      const err = failWith?.(value, ++attempts);
      if (err) throw err;
      writes.push(`${id}=${String(value)}`);
    },
  });
  const results: CommandResult[] = [];
  const handler = new CommandHandler({
    arbiter,
    clock,
    log: silentLogger,
    publishResult: (_a, r) => results.push(r),
    targetValue: (a, v) => (a.driver === 'bus' ? modbusTargetValue(a.target, v) : undefined),
  });
  arbiter.start();
  return { clock, writes, results, handler, arbiter };
}

test('a permanent write error (Modbus exception 02) gives one final failed result and is not retried', async () => {
  let tries = 0;
  const { clock, results, handler, arbiter } = setup((v) => (v === 5 ? (tries++, exceptionError(2)) : undefined));
  handler.handleCommand('setpoint', cmd({ id: 'c1', value: 5 }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.deepEqual(results, [{ id: 'c1', ok: false, status: 'failed', final: true, error: 'write failed: exception 2 ILLEGAL DATA ADDRESS', ts: T0 }]);
  await clock.advanceAsync(60_000);
  assert.equal(tries, 1, 'the refused value is not written again');
  assert.equal(arbiter.status().find((s) => s.id === 'setpoint')?.owner, undefined, 'the failed command holds nothing');
});

test('a transient write error gives the final failed result after the configured 3 attempts', async () => {
  const { clock, results, handler } = setup((v) => (v === true ? new ModbusError('timeout: no answer', 'timeout') : undefined));
  handler.handleCommand('heater', cmd({ id: 'c2', value: true }), {}, 'cloud');
  await clock.advanceAsync(0); // attempt 1 fails; retries after 1 s backoff
  const pending = {
    id: 'c2',
    status: 'pending',
    final: false,
    error: 'waiting for the retry backoff after a failed write (timeout: no answer) (writes at 2026-01-01T00:00:01.000Z)',
    writesAt: T0 + 1000,
    owner: 'cmd:c2',
    ts: T0,
  };
  assert.deepEqual(results, [pending], 'one interim result, not one per retry');
  await clock.advanceAsync(1000); // attempt 2
  assert.deepEqual(results, [pending]);
  await clock.advanceAsync(1000); // attempt 3: final
  assert.deepEqual(results, [pending, { id: 'c2', ok: false, status: 'failed', final: true, error: 'write failed 3 times: timeout: no answer', ts: T0 + 2000 }]);
});

test('a write deferred by minOff is answered pending, then applied when written', async () => {
  const { clock, results, handler, writes } = setup();
  handler.handleCommand('heater', cmd({ id: 'on', value: true }), {}, 'cloud');
  await clock.advanceAsync(1000);
  handler.handleCommand('heater', cmd({ id: 'off', value: false }), {}, 'cloud');
  await clock.advanceAsync(1000);
  // switched off at T0+1 s; minOff 10 s → the next on may be written at T0+11 s
  handler.handleCommand('heater', cmd({ id: 'on2', value: true }), {}, 'cloud');
  assert.deepEqual(results.at(-1), {
    id: 'on2',
    status: 'pending',
    final: false,
    error: 'waiting for the minimum off time (writes at 2026-01-01T00:00:11.000Z)',
    writesAt: T0 + 11_000,
    owner: 'cmd:on2',
    ts: T0 + 2000,
  });
  await clock.advanceAsync(9000);
  assert.deepEqual(results.at(-1), { id: 'on2', ok: true, status: 'applied', final: true, applied: true, owner: 'cmd:on2', ts: T0 + 11_000 });
  assert.deepEqual(writes, ['heater=true', 'heater=false', 'heater=true']);
});

test('a pending command replaced by a newer one says it was not written', async () => {
  const { clock, results, handler } = setup();
  handler.handleCommand('heater', cmd({ id: 'a', value: true }), {}, 'cloud');
  await clock.advanceAsync(0);
  handler.handleCommand('heater', cmd({ id: 'b', value: false }), {}, 'cloud');
  await clock.advanceAsync(0);
  handler.handleCommand('heater', cmd({ id: 'c', value: true }), {}, 'cloud'); // pending (minOff)
  handler.handleCommand('heater', cmd({ id: 'd', value: false }), {}, 'cloud'); // replaces c; heater is off already
  const byId = (id: string) => results.filter((r) => r.id === id).map((r) => r.status);
  assert.deepEqual(byId('c'), ['pending', 'superseded']);
  assert.equal(results.find((r) => r.id === 'c' && r.final)?.error, 'not written: replaced or released before the write');
  assert.deepEqual(byId('d'), ['applied']);
});

test('values are checked against the target encoding: no silent rounding, no value that does not fit', async () => {
  const { clock, results, handler, writes } = setup();
  const last = () => results.at(-1);
  handler.handleCommand('setpoint', cmd({ id: 'r1', value: 12.7 }), {}, 'cloud');
  assert.deepEqual(last(), {
    id: 'r1',
    ok: false,
    status: 'rejected',
    final: true,
    error: '12.7 cannot be written exactly to actuator "setpoint" (its target would hold 13); send 13, or set round: true on the actuator',
    ts: T0,
  });
  handler.handleCommand('setpoint', cmd({ id: 'r2', value: 70000 }), {}, 'cloud');
  assert.equal(last()?.error, '70000 does not fit the int16 register 7; not written');
  // flow: uint16 with scale 0.5 and round: true → 10.3 / 0.5 = 20.6 → raw 21 → 10.5 written and reported
  handler.handleCommand('flow', cmd({ id: 'r3', value: 10.3 }), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.deepEqual(last(), { id: 'r3', ok: true, status: 'applied', final: true, applied: 10.5, owner: 'cmd:r3', ts: T0 });
  // 12.7 / 0.5 = 25.4 → 25 → 12.5; 40000 / 0.5 = 80000 does not fit uint16
  handler.handleCommand('flow', cmd({ id: 'r4', value: 40000 }), {}, 'cloud');
  assert.equal(last()?.error, '40000 does not fit the uint16 register 8 (raw 80000 with scale 0.5, offset 0); not written');
  assert.deepEqual(writes, ['flow=10.5']);
});

test('a command whose expiresAt passes while minOff defers it is not written: failed, and its hold released', async () => {
  const { clock, results, handler, writes, arbiter } = setup();
  handler.handleCommand('heater', cmd({ id: 'off', value: false }), {}, 'cloud');
  await clock.advanceAsync(0); // switched off at T0; minOff 10 s → an on may be written at T0+10 s
  handler.handleCommand('heater', cmd({ id: 'on', value: true, expiresAt: T0 + 4000 }), {}, 'cloud');
  assert.equal(results.at(-1)?.status, 'pending');
  await clock.advanceAsync(20_000);
  // expired once the clock is past T0+4 s, i.e. at T0+4001, six seconds before minOff would let it through
  assert.deepEqual(results.at(-1), {
    id: 'on',
    ok: false,
    status: 'failed',
    final: true,
    error: 'not written: expired at 2026-01-01T00:00:04.000Z while waiting for the minimum off time',
    ts: T0 + 4001,
  });
  assert.deepEqual(writes, ['heater=false'], 'the expired value is never written');
  // cloud commands share one hold: "on" replaced "off", so releasing it leaves no cloud hold and the heater as it is
  assert.equal(arbiter.holding('heater', 'command'), false);
  assert.deepEqual(
    arbiter.status().find((s) => s.id === 'heater'),
    { id: 'heater', value: false, wanted: false, owner: undefined, priority: undefined, lastWrite: T0, writes: 1, errors: 0, lastError: undefined, failing: false },
  );
});

test('a command still deferred when the gateway stops gets a final result before the log closes', async () => {
  const { clock, results, handler, writes, arbiter } = setup();
  handler.handleCommand('heater', cmd({ id: 'off', value: false }), {}, 'cloud');
  await clock.advanceAsync(1000);
  handler.handleCommand('heater', cmd({ id: 'on', value: true }), {}, 'cloud'); // pending (minOff until T0+10 s)
  await arbiter.shutdown();
  handler.close();
  assert.deepEqual(results.at(-1), { id: 'on', ok: false, status: 'superseded', final: true, error: 'not written: the gateway stopped', ts: T0 + 1000 });
  await clock.advanceAsync(60_000);
  assert.deepEqual(writes, ['heater=false']);
  assert.equal(results.filter((r) => r.id === 'on').length, 2, 'pending, then exactly one final result');
});
