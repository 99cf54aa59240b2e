import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dryRun, type TraceRow } from '../../src/rules/dry-run';
import { actuator, ruleSet } from '../rules/helpers';

// Issue 10: `rules test` explains what did not happen — a cooldown, a min on/off
// deferral, a rate limit — so an engineer sees why an expected action is late.
const T0 = Date.UTC(2026, 0, 1);
const row = (s: number, value: number): TraceRow => ({ ts: T0 + s * 1000, sensor: 't', value, quality: 'good' });

const RULE = `rules:
  - id: fan-hot
    when: t > 10
    cooldown: 30s
    then:
      - set: { actuator: fan, value: true }
    else:
      - set: { actuator: fan, value: false }
`;

test('cooldown and minOn deferrals appear with their reasons; the writes happen when the gates open', async () => {
  const lines = await dryRun(ruleSet(RULE), [row(0, 11), row(5, 5), row(10, 12), row(40, 12)], { actuators: [actuator({ id: 'fan', minOn: '20s' })] });
  const shown = lines.map((l) => `${(l.ts - T0) / 1000} ${l.who} ${l.what}`);
  // Hand-worked: fires at 0 s (fan on); releases at 5 s → off is wanted, but minOn 20 s holds it
  // until 20 s; at 10 s the condition is true again during the 30 s cooldown (from 5 s to 35 s);
  // at 35 s the cooldown ends, t is still 12 → fires again and the fan goes back on.
  assert.deepEqual(shown, [
    '0 fan-hot fire',
    '0 fan-hot set fan = true',
    '0 fan write true',
    '5 fan-hot release',
    '5 fan-hot set fan = false',
    '5 fan write of false deferred 15s by minOn 20s',
    '10 fan-hot not-fired condition true, but the rule rests for its cooldown of 30s (fires again at the earliest in 25s)',
    '20 fan write false',
    '35 fan-hot idle cooldown over',
    '35 fan-hot fire',
    '35 fan-hot set fan = true',
    '35 fan write true',
  ]);
});

test('a rate limit shows as a deferral with the limit', async () => {
  const toggling = `rules:\n  - id: toggle\n    when: t > 10\n    then:\n      - set: { actuator: pump, value: true }\n    else:\n      - set: { actuator: pump, value: false }\n`;
  const rows = [row(0, 11), row(1, 5), row(2, 11)];
  const lines = await dryRun(ruleSet(toggling), rows, { actuators: [actuator({ id: 'pump', maxWritesPerMinute: 2 })] });
  const shown = lines.filter((l) => l.who === 'pump').map((l) => `${(l.ts - T0) / 1000} ${l.what}`);
  // Two writes (0 s, 1 s) use the limit; the third waits until the first is a minute old (60 s).
  assert.deepEqual(shown, ['0 write true', '1 write false', '2 write of true deferred 58s by rate limit of 2 writes per minute']);
});
