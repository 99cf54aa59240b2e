/**
 * Polls on the interval's grid (drivers/modbus/device.ts nextDue): devices that share an
 * interval fall due in the same millisecond whenever they started. Times are epoch ms
 * worked out by hand; T is a whole second (1 767 225 600 000 = 2026-01-01T00:00:00Z).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceState, nextDue } from '../../drivers/modbus/device';
import { modbusDeviceSchema } from '../../drivers/modbus/schema';
import { silentLogger } from '../../src/core/logger';

const T = Date.UTC(2026, 0, 1);

test('the first read at start is followed by the first multiple of the interval at least half an interval later', () => {
  assert.deepEqual(nextDue(T + 300, T + 300, 1000), { next: T + 1000, missed: 0 }); // 300 + 500 = 800 → 1000
  assert.deepEqual(nextDue(T + 700, T + 700, 1000), { next: T + 2000, missed: 0 }); // 700 + 500 = 1200 → 2000
  assert.deepEqual(nextDue(T + 20, T + 20, 50), { next: T + 50, missed: 0 }); // 20 + 25 = 45 → 50
});

test('on the grid: the next multiple, skipping (and counting) the ones already missed', () => {
  assert.deepEqual(nextDue(T + 1004, T + 1000, 1000), { next: T + 2000, missed: 0 });
  assert.deepEqual(nextDue(T + 3100, T + 1000, 1000), { next: T + 4000, missed: 2 });
  assert.deepEqual(nextDue(T, T, 1000), { next: T + 1000, missed: 0 }, 'a start that is on the grid');
});

test('two devices started 137 ms apart, both at 1 s, want the bus in the same millisecond after their first cycle', () => {
  const cfg = (name: string) => modbusDeviceSchema.parse({ name, unit: 1, interval: '1s', sensors: [{ id: `${name}.v`, register: 'holding', address: 0 }] });
  const a = new DeviceState(cfg('a'), silentLogger, T + 250);
  const b = new DeviceState(cfg('b'), silentLogger, T + 387);
  assert.equal(a.startCycle(T + 250), true);
  assert.equal(b.startCycle(T + 387), true);
  assert.equal(a.nextWake(), T + 1000);
  assert.equal(b.nextWake(), T + 1000);
});
