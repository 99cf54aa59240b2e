import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Arbiter } from '../../src/arbiter/arbiter';
import { CommandHandler, type CommandResult } from '../../src/commands/commands';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { reading } from '../../src/core/reading';
import { RulesEngine } from '../../src/rules/engine';
import { loadRuleFiles } from '../../src/rules/load';
import { actuator, context } from './helpers';

const T0 = Date.UTC(2026, 0, 1);

test('furnace example: cut after 5 s above 80, interlock rejects a cloud "on", back on below 75, failsafe when the sensor goes quiet', async () => {
  const clock = new VirtualClock(T0);
  const furnace = actuator({ id: 'furnace', failsafe: false, minOff: '5s', cloud: true });
  const writes: string[] = [];
  const arbiter = new Arbiter({
    actuators: [furnace],
    clock,
    log: silentLogger,
    publishEvent: () => {},
    write: async (id, _t, v) => {
      writes.push(`${(clock.now() - T0) / 1000}s ${id}=${String(v)}`);
    },
  });
  const loaded = loadRuleFiles([path.resolve(__dirname, '../../rules/furnace-overtemp.yaml')], context(['furnace.temp'], [furnace]));
  assert.ok(loaded.ok);
  const engine = new RulesEngine({ clock, log: silentLogger, arbiter, publishEvent: () => {} });
  engine.load(loaded.set);
  const results: CommandResult[] = [];
  const commands = new CommandHandler({ arbiter, clock, log: silentLogger, publishResult: (_a, r) => results.push(r) });
  arbiter.start();
  engine.start();
  const temp = async (v: number) => {
    engine.accept(reading('furnace.temp', clock.now(), v));
    await clock.advanceAsync(1000);
  };
  for (const v of [79, 81, 82, 83, 84, 85]) await temp(v); // above 80 from 1 s → cut at 6 s
  assert.deepEqual(writes, ['6s furnace=false']);
  commands.handleCommand('furnace', Buffer.from('{"id":"c1","value":true}'), {}, 'cloud');
  assert.deepEqual(results.at(-1), { id: 'c1', ok: false, status: 'rejected', final: true, error: 'blocked by safety rule furnace-overtemp', ts: T0 + 6000 });
  for (const v of [80, 77, 75.5, 74.9]) await temp(v); // below 75 at 9 s (minOff 5 s since 6 s → on at 11 s)
  await clock.advanceAsync(2000);
  assert.deepEqual(writes, ['6s furnace=false', '11s furnace=true']);
  // once released, the cloud may drive it again
  commands.handleCommand('furnace', Buffer.from('{"id":"c2","value":false}'), {}, 'cloud');
  await clock.advanceAsync(0);
  assert.equal(results.at(-1)?.status, 'applied');
  assert.deepEqual(writes.at(-1), '12s furnace=false');
  commands.handleCommand('furnace', Buffer.from('{"id":"c3","release":true}'), {}, 'cloud');
  assert.equal(results.at(-1)?.status, 'released');
  await clock.advanceAsync(0);
  // releasing the command hands the furnace back to the rule's else-hold (on), after minOff 5 s: at 17 s
  await clock.advanceAsync(5000);
  assert.deepEqual(writes.at(-1), '17s furnace=true');
  // furnace.temp last reported at 9 s; maxAge 10 s → stale at the 20 s check (age 11 s) → failsafe off
  await clock.advanceAsync(4000);
  assert.deepEqual(writes.slice(-2), ['17s furnace=true', '20s furnace=false']);
  assert.deepEqual(engine.status().failsafe, ['furnace-overtemp']);
  assert.equal(arbiter.status()[0].owner, 'furnace-overtemp (inputs stale or bad)');
  engine.stop();
  await arbiter.shutdown();
  assert.equal(clock.pending(), 0);
});
