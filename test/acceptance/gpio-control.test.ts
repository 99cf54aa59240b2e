/**
 * GPIO end to end with a fake chip at the GpioLine seam and everything above it
 * real: debounced input edge → pipeline → hub → rules (a rule file in a temp
 * rules dir) → arbiter → GPIO output line; failsafe on stop; a pulse counter
 * whose persisted total survives a daemon restart over the same state dir.
 * Readings and events go to a real Mosquitto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { parseConfig } from '../../src/config/load';
import { Daemon } from '../../src/daemon/daemon';
import { FakeGpioChip, makeGpioDriverKind } from '../../drivers/gpio';
import type { GpioDriverConfig } from '../../drivers/gpio/schema';
import { startMosquitto } from '../helpers/mosquitto';
import { record, type Recorder } from '../helpers/mqtt-recorder';
import { tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

const GW = 'gpio-gw';
const SUMP_PIN = 17; // float switch to ground: closed (water high) pulls the pin low
const PUMP_PIN = 27; // relay board with an active-low input: low = pump on
const FLOW_PIN = 22; // flow meter, one falling edge per pulse

function uplinkYaml(broker: string): string {
  return `gateway: { id: ${GW} }
uplink:
  brokers: [${broker}]
  heartbeat: 1s
  batch: { maxReadings: 50, maxDelay: 20ms }
outbox: { flushInterval: 20ms }
`;
}

const SUMP_RULE = `rules:
  - id: sump-high
    description: Pump the sump out while the float switch is up
    when: sump.high == 1
    until: sump.high == 0
    maxAge: 1h
    then:
      - set: { actuator: pump, value: true }
      - event: { severity: warning, message: "Sump high: pump on" }
    else:
      - set: { actuator: pump, value: false }
      - clear: Sump back down
`;

/** An in-process daemon whose gpio driver "pins" runs over `chip`. */
function gpioDaemon(yamlText: string, chip: FakeGpioChip, stateDir: string, rulesDir?: string): Daemon {
  const parsed = parseConfig('gateway.yaml', yamlText);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  const cfg = parsed.value.config.drivers.find((d) => d.id === 'pins');
  assert.equal(cfg?.kind, 'gpio');
  const kind = makeGpioDriverKind({ lineFactory: chip });
  return new Daemon({
    loaded: parsed.value,
    stateDir,
    rulesDir,
    clock: systemClock,
    log: silentLogger,
    driverFactories: { pins: (ctx) => kind.create(cfg as GpioDriverConfig, ctx) },
  });
}

interface Ev {
  type: string;
  source: string;
}

const events = (rec: Recorder) => rec.on('events').map((m) => JSON.parse(m.payload.toString()) as Ev);
const valuesOf = (rec: Recorder, sensor: string, since = 0) =>
  rec
    .readings()
    .filter((r) => r[0] === sensor && r[1] >= since)
    .map((r) => r[2]);

test('float switch edge → rule → active-low relay; a bouncy train fires once; failsafe written on stop', { timeout: 20_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, `fieldgate/${GW}/#`, `fieldgate/${GW}/`);
  t.after(() => rec.close());
  const dir = tempDir('fg-gpio-control-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'sump.yaml'), SUMP_RULE);

  const chip = new FakeGpioChip(systemClock);
  chip.setLevel(SUMP_PIN, 1); // float down: contact open, pin pulled up
  const daemon = gpioDaemon(
    `${uplinkYaml(broker.url)}drivers:
  - kind: gpio
    id: pins
    inputs:
      - { id: sump.high, pin: ${SUMP_PIN}, activeLow: true, debounce: 30ms, interval: 1h }
actuators:
  - { id: pump, driver: pins, target: { pin: ${PUMP_PIN}, activeLow: true }, type: bool, initial: false, failsafe: false, maxWritesPerMinute: 600 }
`,
    chip,
    path.join(dir, 'state'),
    rulesDir,
  );
  let stopped = false;
  t.after(async () => {
    if (!stopped) await daemon.stop();
  });
  await daemon.start();

  // Start-up: pump off (initial false) → the active-low output is claimed high.
  await waitFor(() => daemon.arbiter.status().find((a) => a.id === 'pump')?.value === false, { what: 'initial pump value written' });
  assert.equal(chip.isClaimed(PUMP_PIN), true);
  assert.equal(chip.level(PUMP_PIN), 1, 'pump off = high on an active-low relay');
  assert.deepEqual(chip.writes(PUMP_PIN), [], 'the initial level is driven as the line is claimed, not by a later write');
  await waitFor(() => valuesOf(rec, 'sump.high').length === 1, { what: 'the start-up level of sump.high on the broker' });
  assert.deepEqual(valuesOf(rec, 'sump.high'), [0]);

  // The float rises and the contact chatters: five raw edges inside the 30 ms debounce
  // window, ending closed (low). Without debounce that would be three rises (three firings).
  const trainAt = Date.now();
  for (const raw of [0, 1, 0, 1, 0] as const) chip.edge(SUMP_PIN, raw);
  await waitFor(() => chip.level(PUMP_PIN) === 0, { what: 'pump on (output low)' });
  assert.deepEqual(chip.writes(PUMP_PIN), [0], 'one write: pump on');
  await waitFor(() => events(rec).some((e) => e.type === 'alarm' && e.source === 'sump-high'), { what: 'the sump-high alarm' });
  const sumpEdges = () => {
    const inputs = daemon.status().drivers.find((d) => d.id === 'pins')?.detail?.inputs as Record<string, { edges: number; bounces: number }>;
    return { edges: inputs['sump.high'].edges, bounces: inputs['sump.high'].bounces };
  };
  assert.deepEqual(sumpEdges(), { edges: 5, bounces: 4 }, 'five raw edges, four absorbed as bounces (driver health)');
  await waitFor(() => valuesOf(rec, 'sump.high').length >= 2, { what: 'the debounced sump.high reading' });
  assert.deepEqual(valuesOf(rec, 'sump.high'), [0, 1], 'one reading for the whole train');
  const changed = rec.readings().filter((r) => r[0] === 'sump.high')[1];
  assert.equal(changed[2], 1, 'debounced level: float up');
  assert.ok(changed[1] >= trainAt && changed[1] <= trainAt + 5, `stamped with the first edge of the train (${changed[1] - trainAt} ms after it)`);
  assert.equal(daemon.rules().find((r) => r.id === 'sump-high')?.state, 'active');

  // The float drops with a shorter bounce (open, closed, open): one release, pump off.
  for (const raw of [1, 0, 1] as const) chip.edge(SUMP_PIN, raw);
  await waitFor(() => chip.level(PUMP_PIN) === 1, { what: 'pump off (output high)' });
  assert.deepEqual(chip.writes(PUMP_PIN), [0, 1]);
  await waitFor(() => events(rec).some((e) => e.type === 'alarm.clear' && e.source === 'sump-high'), { what: 'the alarm clear' });

  // A clean rise: pump on again.
  chip.edge(SUMP_PIN, 0);
  await waitFor(() => chip.level(PUMP_PIN) === 0, { what: 'pump on again' });
  await waitFor(() => events(rec).filter((e) => e.type === 'alarm').length === 2, { what: 'the second alarm' });
  await waitFor(() => valuesOf(rec, 'sump.high').length >= 4, { what: 'all sump.high readings' });
  assert.deepEqual(sumpEdges(), { edges: 9, bounces: 6 }, '5 + 3 + 1 raw edges; 4 + 2 bounces');
  assert.deepEqual(valuesOf(rec, 'sump.high'), [0, 1, 0, 1], 'one reading per debounced change, none for the bounces');
  assert.equal(events(rec).filter((e) => e.type === 'alarm.clear').length, 1);
  assert.deepEqual(chip.writes(PUMP_PIN), [0, 1, 0]);

  // Stop while the rule holds the pump on: the failsafe (off → high) is written, then the lines are released.
  stopped = true;
  await daemon.stop();
  assert.deepEqual(chip.writes(PUMP_PIN), [0, 1, 0, 1], 'failsafe false written on stop');
  assert.equal(chip.level(PUMP_PIN), 1);
  assert.equal(chip.isClaimed(PUMP_PIN), false, 'output released');
  assert.equal(chip.isClaimed(SUMP_PIN), false, 'input released');
  assert.equal(chip.isWatched(SUMP_PIN), false);
});

test('pulse counter: rate and total on the broker; the total survives a restart over the same state dir', { timeout: 20_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const rec = await record(broker.url, `fieldgate/${GW}/#`, `fieldgate/${GW}/`);
  t.after(() => rec.close());
  const dir = tempDir('fg-gpio-counter-');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stateDir = path.join(dir, 'state');
  // 0.5 L per pulse, one rate reading per 500 ms window in L/min.
  const yamlText = `${uplinkYaml(broker.url)}drivers:
  - kind: gpio
    id: pins
    statePersistInterval: 1h
    inputs:
      - id: water.flow
        unit: L/min
        pin: ${FLOW_PIN}
        mode: counter
        edge: falling
        counter: { factor: 0.5, rateWindow: 500ms, rateUnit: min, total: { id: water.total, unit: L } }
`;
  const running = new Set<Daemon>();
  t.after(async () => {
    for (const d of running) await d.stop();
  });
  const pulses = (chip: FakeGpioChip, n: number) => {
    // Injected in one go, so all of them fall into the same rate window.
    for (let i = 0; i < n; i++) {
      chip.edge(FLOW_PIN, 1);
      chip.edge(FLOW_PIN, 0);
    }
  };

  // First run: no totals file yet, the total starts at 0.
  const chip1 = new FakeGpioChip(systemClock);
  const first = gpioDaemon(yamlText, chip1, stateDir);
  running.add(first);
  await first.start();
  await waitFor(() => valuesOf(rec, 'water.total').includes(0), { what: 'the start-up total 0' });
  pulses(chip1, 10);
  // 10 pulses × 0.5 L = 5 L; in one 500 ms window: 5 L × 60 000 / 500 = 600 L/min.
  await waitFor(() => valuesOf(rec, 'water.total').includes(5), { what: 'total 5 L' });
  await waitFor(() => valuesOf(rec, 'water.flow').includes(600), { what: 'rate 600 L/min' });
  running.delete(first);
  await first.stop();
  assert.deepEqual(
    valuesOf(rec, 'water.flow').filter((v) => v !== 0),
    [600],
    'exactly one non-zero window',
  );

  // Second run over the same state dir, with a fresh chip: the total resumes at 5 L
  // (persisted on stop; the 1 h persist interval never fired).
  const restartAt = Date.now();
  const chip2 = new FakeGpioChip(systemClock);
  const second = gpioDaemon(yamlText, chip2, stateDir);
  running.add(second);
  await second.start();
  await waitFor(() => valuesOf(rec, 'water.total', restartAt).length > 0, { what: 'the restored total' });
  assert.equal(valuesOf(rec, 'water.total', restartAt)[0], 5, 'total restored, not restarted from 0');
  pulses(chip2, 7);
  // 5 L + 7 × 0.5 L = 8.5 L; rate 3.5 L per 500 ms = 420 L/min.
  await waitFor(() => valuesOf(rec, 'water.total', restartAt).includes(8.5), { what: 'total 8.5 L' });
  await waitFor(() => valuesOf(rec, 'water.flow', restartAt).includes(420), { what: 'rate 420 L/min' });
  assert.deepEqual(
    valuesOf(rec, 'water.total').filter((v) => v !== 0 && v !== 5 && v !== 8.5),
    [],
    'the total only ever reads 0, 5 or 8.5 L',
  );
  running.delete(second);
  await second.stop();
});
