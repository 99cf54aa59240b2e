/** Shared set-up of the wireless acceptance tests (fake radios in an in-process daemon, real Mosquitto). */
import { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { parseConfig, type LoadedConfig } from '../../src/config/load';
import { Daemon } from '../../src/daemon/daemon';
import type { ControlEvent } from '../../src/arbiter/event';
import type { WireReading } from '../../src/uplink/batch-format';
import type { Driver, DriverContext } from '../../drivers/driver';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { record, type Recorder } from '../helpers/mqtt-recorder';
import { tempDir } from '../helpers/daemon';

export const FIXTURES = path.resolve(__dirname, '../fixtures');

/** Readings of one sensor on .../data, in arrival order. */
export function valuesOf(rec: Recorder, sensor: string): WireReading[2][] {
  return rec.readings().filter((r) => r[0] === sensor).map((r) => r[2]);
}

export function readingsOf(rec: Recorder, sensor: string): WireReading[] {
  return rec.readings().filter((r) => r[0] === sensor);
}

export function eventsOf(rec: Recorder): ControlEvent[] {
  return rec.on('events').map((m) => JSON.parse(m.payload.toString()) as ControlEvent);
}

/** Numbers compared to within 1e-9 (a `scale: 0.1` multiplication is not exact in binary). */
export function assertValues(actual: readonly unknown[], expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
  expected.forEach((e, i) => {
    const a = actual[i];
    assert.ok(typeof a === 'number' && Math.abs(a - e) < 1e-9, `${what}[${i}]: got ${JSON.stringify(a)}, expected ${e}`);
  });
}

export function loadConfig(yaml: string): LoadedConfig {
  const r = parseConfig('gateway.yaml', yaml);
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.line}:${p.col}: ${p.message}`).join('\n'));
  return r.value;
}

/** The validated config entry of one driver (the gateway erases driver config types to a common shape). */
export function driverConfig<C>(loaded: LoadedConfig, id: string): C {
  const d = loaded.config.drivers.find((x) => x.id === id);
  assert.ok(d, `driver ${id} configured`);
  return d as unknown as C;
}

export interface Harness {
  broker: Mosquitto;
  rec: Recorder;
  daemon: Daemon;
}

/**
 * A real broker and recorder, and an in-process Daemon over `factories`. Teardown
 * (one hook, in order): daemon, then `cleanup` (fakes), recorder, broker, temp dir.
 */
export async function startHarness(
  t: TestContext,
  opts: { gatewayId: string; config: (broker: string) => string; rules: string; factories: (loaded: LoadedConfig) => Record<string, (ctx: DriverContext) => Driver>; cleanup: () => unknown },
): Promise<Harness> {
  const dir = tempDir(`fg-${opts.gatewayId}-`);
  // Filled in as things start, so the teardown stops whatever did start.
  const h: Partial<Harness> = {};
  t.after(async () => {
    await h.daemon?.stop();
    await opts.cleanup();
    await h.rec?.close();
    await h.broker?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const broker = (h.broker = await startMosquitto());
  const rec = (h.rec = await record(broker.url, `fieldgate/${opts.gatewayId}/#`, `fieldgate/${opts.gatewayId}/`));
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'wireless.yaml'), opts.rules);
  const loaded = loadConfig(opts.config(broker.url));
  const daemon = (h.daemon = new Daemon({ loaded, stateDir: path.join(dir, 'state'), rulesDir, clock: systemClock, log: silentLogger, driverFactories: opts.factories(loaded) }));
  await daemon.start();
  assert.equal(daemon.rules().length, 1, 'the rule file loaded');
  // Replay only once the uplink is online, so nothing below depends on the outbox catching up.
  await rec.waitFor('status', (m) => m.payload.toString() === 'online');
  return { broker, rec, daemon };
}

export function uplinkYaml(gatewayId: string, broker: string): string {
  return `gateway: { id: ${gatewayId}, clockSync: assume }
uplink:
  brokers: [${broker}]
  heartbeat: 1s
  batch: { maxReadings: 50, maxDelay: 20ms }
outbox: { flushInterval: 10ms }
`;
}

/** IEEE addresses in test/fixtures/zigbee/heater-room.json. */
export const ROOM_SENSOR = '0x00158d0001a2b3c4';
export const HEATER_PLUG = '0x0017880100ee11aa';
