import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import type { Reading } from '../../src/core/reading';
import { parseConfig } from '../../src/config/load';
import { Gateway } from '../../src/daemon/gateway';
import type { DriverContext } from '../../drivers/driver';

// Windows close on the second (1 s aggregate); the clock starts 100 ms past one.
const T0 = Date.UTC(2026, 5, 1) + 100;

/** A gateway whose only driver emits when the test says so; `stages` is sensor t's pipeline. */
function setup(t: { after: (fn: () => void) => void }, stages: string) {
  const parsed = parseConfig(
    'gw.yaml',
    `gateway: { id: gw, clockSync: assume }
drivers:
  - kind: sim
    id: field
    sensors:
      - id: t
        waveform: constant
        pipeline: ${stages}
`,
  );
  assert.ok(parsed.ok);
  const clock = new VirtualClock(T0);
  let ctx: DriverContext | undefined;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-flush-'));
  const gw = new Gateway({
    loaded: parsed.value,
    stateDir,
    clock,
    log: silentLogger,
    systemRoot: stateDir,
    driverFactories: { field: (c) => ((ctx = c), { start: async () => undefined, stop: async () => undefined }) },
  });
  const seen: Reading[] = [];
  gw.hub.subscribe({ accept: (r) => seen.push({ ...r }) });
  t.after(() => {
    gw.close();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  const emit = (value: number, ts = clock.now()) => ctx?.emit('t', value, 'good', ts);
  return { gw, clock, seen, emit };
}

test('an aggregate window is published 1 ms after it ends, not at the next flush tick', async (t) => {
  const { gw, clock, seen, emit } = setup(t, '[ { kind: aggregate, window: 1s, fn: mean } ]');
  await gw.start();
  emit(10); // T0: in the window (T0 - 100, T0 + 900]
  clock.advance(400);
  emit(20);
  clock.advance(500); // T0 + 900: the window's end; a reading stamped there may still come
  assert.equal(seen.length, 0);
  clock.advance(1); // T0 + 901: strictly past the end
  assert.deepEqual(
    seen.map((r) => [r.ts, r.value]),
    [[T0 + 900, 15]],
  );
  await gw.stop();
});

test('a window opened by a late reading (stamped in the past) is flushed at once', async (t) => {
  const { gw, clock, seen, emit } = setup(t, '[ { kind: aggregate, window: 1s, fn: max } ]');
  await gw.start();
  emit(7, T0 - 1_500); // window (T0 - 2100, T0 - 1100]: ended already
  clock.advance(0);
  assert.deepEqual(
    seen.map((r) => [r.ts, r.value]),
    [[T0 - 1_100, 7]],
  );
  await gw.stop();
});

test('chained windows: the minute window closes when due after the 1 s windows fed it', async (t) => {
  const { gw, clock, seen, emit } = setup(t, '[ { kind: aggregate, window: 1s, fn: mean }, { kind: aggregate, window: 1m, fn: count } ]');
  await gw.start();
  const minuteEnd = Math.ceil(T0 / 60_000) * 60_000;
  emit(1); // its 1 s window ends at T0 + 900, then the count window ending on the minute holds one reading
  clock.advance(minuteEnd - clock.now()); // at the minute's end: nothing yet
  assert.equal(seen.length, 0);
  clock.advance(1);
  assert.deepEqual(
    seen.map((r) => [r.ts, r.value]),
    [[minuteEnd, 1]],
  );
  await gw.stop();
});

test('a gateway whose pipelines have no window stage sets no flush timer', async (t) => {
  const { gw, clock, seen, emit } = setup(t, '[ { kind: scale, rawMin: 0, rawMax: 10, min: 0, max: 100 } ]');
  await gw.start();
  emit(1);
  assert.deepEqual(seen.map((r) => r.value), [10]);
  clock.advance(1000); // the outbox commits its batch (its own timer, armed by the reading, 200 ms)
  assert.equal(clock.pending(), 0, 'nothing is scheduled while nothing is due');
  await gw.stop();
});

test('with windows but none open, nothing is scheduled; a reading arms the flush', async (t) => {
  const { gw, clock, emit } = setup(t, '[ { kind: aggregate, window: 1m, fn: last } ]');
  await gw.start();
  assert.equal(clock.pending(), 0);
  emit(3);
  assert.equal(clock.pending(), 1, 'the flush, armed for the window end (the outbox got nothing yet)');
  await gw.stop();
  assert.equal(clock.pending(), 0);
});
