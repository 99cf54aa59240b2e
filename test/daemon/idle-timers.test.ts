import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock, type TimerHandle } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { parseConfig } from '../../src/config/load';
import { Daemon } from '../../src/daemon/daemon';

/** A virtual clock that remembers the period of every timer that fired. */
class CountingClock extends VirtualClock {
  readonly fired: number[] = [];
  override setTimeout(fn: () => void, ms: number): TimerHandle {
    return super.setTimeout(() => (this.fired.push(ms), fn()), ms);
  }
  override setInterval(fn: () => void, ms: number): TimerHandle {
    return super.setInterval(() => (this.fired.push(ms), fn()), ms);
  }
}

const CONFIG = `gateway: { id: gw, clockSync: assume }
outbox: { flushInterval: 20ms }
drivers:
  - kind: sim
    id: sim
    sensors: []
actuators:
  - id: valve
    driver: sim
    target: { output: valve }
    type: bool
    initial: false
`;

async function started(t: { after: (fn: () => Promise<void>) => void }) {
  const parsed = parseConfig('gw.yaml', CONFIG);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  const clock = new CountingClock(Date.UTC(2026, 5, 1));
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-idle-'));
  const daemon = new Daemon({ loaded: parsed.value, stateDir, clock, log: silentLogger });
  t.after(async () => {
    await daemon.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
  await daemon.start();
  await clock.advanceAsync(50); // state documents wait 50 ms for a change to settle
  const states = () =>
    daemon.gateway.outbox
      .peekMessages(0, 1000)
      .filter((m) => m.topic === 'fieldgate/gw/state/valve')
      .map((m) => JSON.parse(m.payload.toString()) as { value: boolean | null; source: { kind: string } });
  return { daemon, clock, states };
}

test('an actuator state document goes out 50 ms after the state changed, without waiting for a tick', async (t) => {
  const { daemon, clock, states } = await started(t);
  // The initial value was written at start: its document is there already.
  assert.deepEqual(states().map((s) => s.value), [false]);
  const result = await daemon.actuate('valve', 'on');
  assert.equal(result.ok, true);
  await clock.advanceAsync(50); // the hold and the sim's answer to its write settle: one document
  assert.deepEqual(
    states().map((s) => [s.value, s.source.kind]),
    [
      [false, 'none'],
      [true, 'local'],
    ],
  );
});

test('an idle daemon sets no timer that fires more often than once a second', async (t) => {
  const { clock } = await started(t);
  clock.fired.length = 0;
  await clock.advanceAsync(10_000);
  assert.deepEqual(
    clock.fired.filter((ms) => ms > 0 && ms < 1000),
    [],
    'periods of the timers that fired in 10 s of idling',
  );
  assert.ok(clock.fired.length <= 30, `${clock.fired.length} timer firings in 10 s`);
});
