import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { memoryLogger } from '../../src/core/logger';
import { ReadingFlag, type Reading } from '../../src/core/reading';
import { parseConfig } from '../../src/config/load';
import { Gateway } from '../../src/daemon/gateway';
import type { Driver, DriverContext } from '../../drivers/driver';

const CONFIG = `gateway: { id: gw, driverRestart: { initial: 1s, max: 8s } }
outbox: { flushInterval: 50ms }
drivers:
  - kind: sim
    id: good
    sensors:
      - id: t
        waveform: counter
        interval: 1s
        pipeline: [ { kind: scale, rawMin: 0, rawMax: 10, min: 0, max: 100 }, { kind: round, decimals: 0 } ]
  - kind: sim
    id: flaky
    sensors: [ { id: f, waveform: constant, value: 5 } ]
`;

function setup(opts: { systemRoot?: string; flaky?: (ctx: DriverContext) => Driver } = {}) {
  const parsed = parseConfig('gw.yaml', CONFIG);
  assert.ok(parsed.ok);
  const clock = new VirtualClock(Date.UTC(2026, 5, 1));
  const log = memoryLogger('info');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-gw-'));
  const gw = new Gateway({
    loaded: parsed.value,
    stateDir,
    clock,
    log,
    systemRoot: opts.systemRoot ?? stateDir,
    driverFactories: opts.flaky ? { flaky: opts.flaky } : undefined,
  });
  const seen: Reading[] = [];
  gw.hub.subscribe({ accept: (r) => seen.push({ ...r }) });
  return { gw, clock, log, seen, stateDir };
}

test('raw samples go through their pipeline to the hub; the outbox gets them', async (t) => {
  const { gw, clock, seen } = setup();
  t.after(() => gw.close());
  await gw.start();
  await clock.advanceAsync(2000);
  // counter 0, 1, 2 scaled ×10 → 0, 10, 20
  assert.deepEqual(seen.filter((r) => r.sensor === 't').map((r) => r.value), [0, 10, 20]);
  await gw.stop();
  assert.equal(gw.outbox.stats().depth, seen.length);
});

test('readings taken before the clock is synchronised carry the CLOCK_UNSYNCED flag', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sys-'));
  fs.mkdirSync(path.join(root, 'run/systemd/timesync'), { recursive: true }); // timesyncd present, not yet synced
  const { gw, clock, seen } = setup({ systemRoot: root });
  t.after(() => gw.close());
  await gw.start();
  assert.equal(seen[0].flags & ReadingFlag.CLOCK_UNSYNCED, ReadingFlag.CLOCK_UNSYNCED);
  fs.writeFileSync(path.join(root, 'run/systemd/timesync/synchronized'), '');
  await clock.advanceAsync(11_000); // the probe re-checks every 10 s
  assert.equal(seen[seen.length - 1].flags & ReadingFlag.CLOCK_UNSYNCED, 0);
  await gw.stop();
});

test('a driver whose start rejects is restarted with backoff while the others keep running', async (t) => {
  let attempts = 0;
  const { gw, clock, seen, log } = setup({
    flaky: () => ({
      start: async () => {
        attempts++;
        if (attempts < 3) throw new Error(`adapter not ready (${attempts})`);
      },
      stop: async () => undefined,
    }),
  });
  t.after(() => gw.close());
  await gw.start();
  assert.equal(gw.driver('flaky')?.state, 'backoff');
  assert.equal(gw.driver('good')?.state, 'running');
  // Backoff caps 1 s then 2 s (full jitter above a 250 ms floor): two restarts within 3 s.
  await clock.advanceAsync(3000);
  assert.equal(attempts, 3);
  assert.equal(gw.driver('flaky')?.state, 'running');
  const row = gw.driver('flaky')!.row();
  assert.equal(row.restarts, 2);
  assert.equal(row.errors, 2);
  assert.equal(row.lastError, 'adapter not ready (2)');
  // The healthy driver never stopped producing: one reading per second.
  assert.equal(seen.filter((r) => r.sensor === 't').length, 4);
  // Logged once per distinct error, not per poll.
  assert.equal(log.lines.filter((l) => l.msg === 'driver error').length, 2);
  await gw.stop();
  assert.equal(clock.pending(), 0, 'every timer cleared on stop');
});

test('the trace of the next sample shows the value after each stage', async (t) => {
  const { gw, clock } = setup();
  t.after(() => gw.close());
  await gw.start();
  const next = gw.nextTrace('t', 5000);
  await clock.advanceAsync(1000);
  const { steps, out } = await next;
  // sample n=1: raw 1 → scale ×10 → 10 → round → 10
  assert.deepEqual(steps.map((s) => [s.stage, s.value]), [['raw', 1], ['scale', 10], ['round', 10]]);
  assert.equal(out?.value, 10);
  await assert.rejects(gw.nextTrace('nope', 10), /unknown sensor/);
  await gw.stop();
});

test('samples for an unconfigured sensor are counted and logged once, never published', async (t) => {
  const { gw, log, seen } = setup();
  t.after(() => gw.close());
  gw.ingest('nope', 1);
  gw.ingest('nope', 2);
  assert.equal(gw.unknownSamples, 2);
  assert.equal(log.lines.filter((l) => l.sensor === 'nope').length, 1);
  assert.equal(seen.length, 0);
});

test('samples stamped by their driver read no clock on the way in (the clock-sync check uses the stamp)', async (t) => {
  const { gw, clock, seen } = setup();
  t.after(() => gw.close());
  await gw.start();
  const at = clock.now();
  const now = clock.now.bind(clock);
  let reads = 0;
  clock.now = () => {
    reads++;
    return now();
  };
  for (let i = 0; i < 20; i++) gw.ingest('f', i, 'good', at);
  clock.now = now;
  assert.equal(reads, 0, 'twenty samples of one Modbus answer');
  assert.deepEqual(seen.filter((r) => r.sensor === 'f' && r.ts === at).map((r) => r.value).slice(-20), Array.from({ length: 20 }, (_, i) => i));
  await gw.stop();
});
