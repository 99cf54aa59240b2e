/**
 * Issue 5 acceptance: BLE and Zigbee end to end.
 *
 *  1. FakeBleRadio (recorded advertisements) → BLE driver → pipeline (round) →
 *     rules (low battery) → outbox → real Mosquitto.
 *  2. FakeZigbeeController (recorded attribute reports) → readings; a Zigbee
 *     on/off plug driven by a cloud command and by a safety rule, which then
 *     rejects a conflicting cloud command.
 *
 * Only the radios are fake (at the BleRadio / ZigbeeController port, injected
 * through Daemon's driverFactories); everything above them runs for real. Expected
 * values are worked out from the fixture bytes and the format specs (see the
 * fixture descriptions), not from the decoders' output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import type { Driver } from '../../drivers/driver';
import { createBleDriverKind, FakeBleRadio, loadRecording } from '../../drivers/ble';
import type { BleDriverConfig } from '../../drivers/ble/schema';
import { createZigbeeDriverKind, FakeZigbeeController, loadZigbeeRecording } from '../../drivers/zigbee';
import type { ZigbeeDriverConfig } from '../../drivers/zigbee/schema';
import { waitFor } from '../helpers/wait';
import { FIXTURES, valuesOf, readingsOf, eventsOf, assertValues, driverConfig, startHarness, uplinkYaml, HEATER_PLUG, ROOM_SENSOR } from './wireless-harness';

// ---------------------------------------------------------------------------
// 1. BLE

function bleYaml(broker: string): string {
  return `${uplinkYaml('wl-ble', broker)}drivers:
  - kind: ble
    id: ble0
    devices:
      - address: "A4:C1:38:00:00:01"
        name: cold-room
        format: bthome
        sensors:
          - { id: cold.temp, field: temperature, unit: "°C", pipeline: [{ kind: round, decimals: 1 }] }
          - { id: cold.humidity, field: humidity, unit: "%" }
          - { id: cold.battery, field: battery, unit: "%" }
          - { id: cold.rssi, field: rssi, unit: dBm }
      - address: "cb:b8:33:4c:88:4f"
        name: ruuvi
        sensors:
          - { id: ruuvi.temp, field: temperature }
          - { id: ruuvi.humidity, field: humidity }
          - { id: ruuvi.pressure, field: pressure }
          - { id: ruuvi.voltage, field: voltage }
          - { id: ruuvi.movements, field: movementCounter }
      - address: "A4-C1-38-AB-CD-EF"
        name: office
        sensors:
          - { id: office.temp, field: temperature }
          - { id: office.humidity, field: humidity }
          - { id: office.battery, field: battery }
          - { id: office.voltage, field: voltage }
`;
}

const LOW_BATTERY_RULE = `rules:
  - id: cold-room-battery-low
    description: Warn when the cold room's BLE sensor runs low
    when: cold.battery < 20
    until: cold.battery > 30
    then:
      - event: { severity: warning, message: "Cold room sensor battery low: {cold.battery} %" }
    else:
      - clear: Cold room sensor battery OK
`;

test('BLE: recorded advertisements → decoded, rounded readings on .../data, and a low-battery alarm on .../events', { timeout: 20_000 }, async (t) => {
  const radio = new FakeBleRadio(systemClock);
  const bleKind = createBleDriverKind({ radio });
  const { rec, daemon } = await startHarness(t, {
    gatewayId: 'wl-ble',
    config: bleYaml,
    rules: LOW_BATTERY_RULE,
    factories: (loaded) => ({ ble0: (ctx) => bleKind.create(driverConfig<BleDriverConfig>(loaded, 'ble0'), ctx) as Driver }),
    cleanup: () => radio.close(),
  });
  assert.ok(radio.scanning, 'the driver started the scan');
  radio.replay(loadRecording(path.join(FIXTURES, 'ble/cold-room.json')));

  await waitFor(() => valuesOf(rec, 'cold.battery').length >= 2 && valuesOf(rec, 'office.temp').length >= 1 && valuesOf(rec, 'ruuvi.temp').length >= 1, {
    timeoutMs: 5_000,
    what: 'the replayed BLE readings on .../data',
  });
  const alarm = await waitFor(() => eventsOf(rec).find((e) => e.type === 'alarm'), { timeoutMs: 5_000, what: 'the low-battery alarm' });
  // Let a stray duplicate (it must not exist) have time to arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 200));

  // BTHome v2 (service data 0xFCD2): packet 1 = 01 battery 0x19 = 25 %, 02 temperature 0x09CA = 2506 × 0.01,
  // 03 humidity 0x13BF = 5055 × 0.01; packet 2 = 15 %, 0x09BE = 2494, 0x13EC = 5100. The round stage keeps one
  // decimal: 25.06 → 25.1, 24.94 → 24.9. Packet 1 arrives twice (same packet id): one reading only.
  assertValues(valuesOf(rec, 'cold.temp'), [25.1, 24.9], 'cold.temp');
  assertValues(valuesOf(rec, 'cold.humidity'), [50.55, 51], 'cold.humidity');
  assertValues(valuesOf(rec, 'cold.battery'), [25, 15], 'cold.battery');
  assertValues(valuesOf(rec, 'cold.rssi'), [-61, -60], 'cold.rssi');
  // Ruuvi RAWv2 valid vector: 0x12FC = 4860 × 0.005 °C, 0x5394 = 21396 × 0.0025 %, 0xC37C + 50000 = 100044 Pa,
  // power 0xAC36: battery 44086 >> 5 = 1377 + 1600 = 2977 mV; movement counter 0x42.
  assertValues(valuesOf(rec, 'ruuvi.temp'), [24.3], 'ruuvi.temp');
  assertValues(valuesOf(rec, 'ruuvi.humidity'), [53.49], 'ruuvi.humidity');
  assertValues(valuesOf(rec, 'ruuvi.pressure'), [1000.44], 'ruuvi.pressure');
  assertValues(valuesOf(rec, 'ruuvi.voltage'), [2.977], 'ruuvi.voltage');
  assertValues(valuesOf(rec, 'ruuvi.movements'), [66], 'ruuvi.movements');
  // pvvx (15 bytes, little-endian): 0x0859 = 2137 × 0.01 °C, 0x12CC = 4812 × 0.01 %, 0x0BA9 = 2985 mV, 0x54 = 84 %.
  // Its truncated frame (8 bytes) yields nothing.
  assertValues(valuesOf(rec, 'office.temp'), [21.37], 'office.temp');
  assertValues(valuesOf(rec, 'office.humidity'), [48.12], 'office.humidity');
  assertValues(valuesOf(rec, 'office.battery'), [84], 'office.battery');
  assertValues(valuesOf(rec, 'office.voltage'), [2.985], 'office.voltage');

  const all = rec.readings();
  assert.ok(all.every((r) => r[3] === 0), 'every reading is of good quality');
  assert.deepEqual(
    [...new Set(all.map((r) => r[0]))].sort(),
    ['cold.battery', 'cold.humidity', 'cold.rssi', 'cold.temp', 'office.battery', 'office.humidity', 'office.temp', 'office.voltage', 'ruuvi.humidity', 'ruuvi.movements', 'ruuvi.pressure', 'ruuvi.temp', 'ruuvi.voltage'],
    'only configured sensors are published (the stranger is not)',
  );
  // Readings carry their receive time, so they keep the recording's order: BTHome packet 1, Ruuvi, pvvx, packet 2.
  const [p1, p2] = readingsOf(rec, 'cold.battery');
  const stamps = [p1[1], readingsOf(rec, 'ruuvi.temp')[0][1], readingsOf(rec, 'office.temp')[0][1], p2[1]];
  assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b), `receive times in recording order: ${stamps.join(', ')}`);
  assert.ok(p2[1] > p1[1], 'packet 2 was received after packet 1 (350 ms later in the recording)');

  // The rule fired on the 15 % reading, once, with the value in the message.
  assert.equal(alarm.source, 'cold-room-battery-low');
  assert.equal(alarm.severity, 'warning');
  assert.equal(alarm.message, 'Cold room sensor battery low: 15 %');
  assert.ok(alarm.ts >= p2[1] && alarm.ts - p2[1] < 100, `alarm at ${alarm.ts}, 15 % reading at ${p2[1]}`);
  assert.equal(eventsOf(rec).filter((e) => e.type === 'alarm').length, 1, 'exactly one alarm');

  // Health: the repeat counted as an advertisement but not a packet; the truncated pvvx frame as a decode error.
  const ble0 = daemon.status().drivers.find((d) => d.id === 'ble0');
  assert.equal(ble0?.state, 'running');
  const devices = (ble0?.detail as { devices: { address: string; rssi: number; advertisements: number; packets: number; decodeErrors: number; lastError?: string }[] }).devices;
  const cold = devices.find((d) => d.address === 'a4:c1:38:00:00:01');
  assert.deepEqual([cold?.rssi, cold?.advertisements, cold?.packets, cold?.decodeErrors], [-60, 3, 2, 0]);
  const office = devices.find((d) => d.address === 'a4:c1:38:ab:cd:ef');
  assert.deepEqual([office?.advertisements, office?.packets, office?.decodeErrors], [2, 1, 1]);
  assert.match(office?.lastError ?? '', /8 bytes/);
});

// ---------------------------------------------------------------------------
// 2. Zigbee


function zigbeeYaml(broker: string): string {
  return `${uplinkYaml('wl-zb', broker)}drivers:
  - kind: zigbee
    id: zb0
    adapter: { type: zstack, path: /dev/serial/by-id/usb-fake-coordinator-if00 }
    devices:
      - ieee: "${ROOM_SENSOR}"
        name: room-sensor
        sensors:
          - { id: room.temp, field: temperature, unit: "°C" }
          - { id: room.humidity, field: humidity, unit: "%" }
          - { id: room.battery, field: battery, unit: "%" }
          - { id: room.batteryVoltage, field: batteryVoltage, unit: V }
      - ieee: "${HEATER_PLUG}"
        name: heater-plug
        sensors:
          - { id: heater.on, field: onOff }
          - { id: heater.watts, field: power, scale: 0.1, unit: W }
actuators:
  - { id: heater, driver: zb0, target: { device: heater-plug, command: onOff }, type: bool, cloud: true }
`;
}

const OVERTEMP_RULE = `rules:
  - id: heater-overtemp
    description: Switch the heater plug off above 25 °C; an interlock
    safety: true
    when: room.temp > 25
    until: room.temp < 23
    then:
      - set: { actuator: heater, value: false }
      - event: { severity: critical, message: "Room too warm: {room.temp} °C; heater plug off" }
`;

interface CommandResult {
  id: string;
  ok: boolean;
  error?: string;
  applied?: unknown;
}

test('Zigbee: attribute reports → readings; the heater plug switched by a cloud command, then by a safety rule that rejects a conflicting command', { timeout: 20_000 }, async (t) => {
  const controller = new FakeZigbeeController(systemClock);
  const zigbeeKind = createZigbeeDriverKind({ controller });
  const { rec, daemon } = await startHarness(t, {
    gatewayId: 'wl-zb',
    config: zigbeeYaml,
    rules: OVERTEMP_RULE,
    factories: (loaded) => ({ zb0: (ctx) => zigbeeKind.create(driverConfig<ZigbeeDriverConfig>(loaded, 'zb0'), ctx) as Driver }),
    cleanup: () => controller.close(),
  });
  assert.ok(controller.running, 'the driver started the coordinator');
  controller.replay(loadZigbeeRecording(path.join(FIXTURES, 'zigbee/heater-room.json')));

  await waitFor(() => valuesOf(rec, 'heater.watts').length >= 1 && valuesOf(rec, 'room.battery').length >= 1 && valuesOf(rec, 'room.temp').length >= 1, {
    timeoutMs: 5_000,
    what: 'the replayed Zigbee readings on .../data',
  });
  // ZCL units: 2150 × 0.01 °C, 4525 × 0.01 %, 174 half-percent, 29 × 100 mV; the plug's activePower 15 × scale 0.1 W.
  assertValues(valuesOf(rec, 'room.temp'), [21.5], 'room.temp');
  assertValues(valuesOf(rec, 'room.humidity'), [45.25], 'room.humidity');
  assertValues(valuesOf(rec, 'room.battery'), [87], 'room.battery');
  assertValues(valuesOf(rec, 'room.batteryVoltage'), [2.9], 'room.batteryVoltage');
  assertValues(valuesOf(rec, 'heater.on'), [0], 'heater.on');
  assertValues(valuesOf(rec, 'heater.watts'), [1.5], 'heater.watts');
  assert.equal(controller.commands.length, 0, 'nothing switched the plug yet');

  // A cloud command switches the heater on: ok, and genOnOff 'on' reaches the plug.
  const sendCommand = (id: string, value: unknown) => rec.client.publish('fieldgate/wl-zb/cmd/heater', JSON.stringify({ id, value }), { qos: 1 });
  const resultOf = async (id: string) =>
    JSON.parse((await rec.waitFor('cmd/heater/result', (m) => (JSON.parse(m.payload.toString()) as CommandResult).id === id)).payload.toString()) as CommandResult;
  sendCommand('op-on-1', true);
  const on = await resultOf('op-on-1');
  assert.equal(on.ok, true, `cloud "on" accepted (${on.error ?? ''})`);
  assert.deepEqual(
    controller.commands.map((c) => [c.ieee, c.cluster, c.command]),
    [[HEATER_PLUG, 'genOnOff', 'on']],
  );

  // The room sensor reports 26.50 °C (2650 × 0.01): the safety rule cuts the heater.
  controller.emit({ type: 'attributeReport', ieee: ROOM_SENSOR, endpoint: 1, cluster: 'msTemperatureMeasurement', attributes: { measuredValue: 2650 } });
  await waitFor(() => controller.commands.length >= 2, { timeoutMs: 5_000, what: "the rule's 'off' command at the plug" });
  assert.deepEqual(controller.commands[1], { ieee: HEATER_PLUG, endpoint: undefined, cluster: 'genOnOff', command: 'off', payload: {} });
  const alarm = await waitFor(() => eventsOf(rec).find((e) => e.type === 'alarm' && e.source === 'heater-overtemp'), { timeoutMs: 5_000, what: 'the over-temperature alarm' });
  assert.equal(alarm.severity, 'critical');
  assert.equal(alarm.message, 'Room too warm: 26.5 °C; heater plug off');
  await waitFor(() => valuesOf(rec, 'room.temp').length >= 2, { timeoutMs: 5_000, what: 'the 26.5 °C reading on .../data' });
  assertValues(valuesOf(rec, 'room.temp'), [21.5, 26.5], 'room.temp');

  // While the interlock holds, a cloud "on" is rejected with the rule as the reason, and nothing reaches the plug.
  sendCommand('op-on-2', true);
  const blocked = await resultOf('op-on-2');
  assert.equal(blocked.ok, false);
  assert.match(blocked.error ?? '', /blocked by safety rule heater-overtemp/);
  assert.equal(controller.commands.length, 2, 'no further command at the plug');
  const heater = daemon.status().actuators as { id: string; value?: unknown }[];
  assert.equal(heater.find((a) => a.id === 'heater')?.value, false, 'the heater stays off');
  const zb0 = daemon.status().drivers.find((d) => d.id === 'zb0');
  assert.equal(zb0?.state, 'running');
  assert.deepEqual(
    [...new Set(rec.readings().map((r) => r[0]))].sort(),
    ['heater.on', 'heater.watts', 'room.battery', 'room.batteryVoltage', 'room.humidity', 'room.temp'],
    'only configured devices yield readings (not the stranger reporting 99.99 °C)',
  );

  // `fieldgate zigbee ...` goes through Daemon.driverCall to the driver's named operations.
  const devices = (await daemon.driverCall('zb0', 'devices', [])) as { ieee: string }[];
  assert.ok(devices.some((d) => d.ieee === HEATER_PLUG) && devices.some((d) => d.ieee === ROOM_SENSOR));
  assert.equal(await daemon.driverCall('zb0', 'permitJoin', [60]), 60);
  assert.equal(controller.permitJoins.at(-1), 60);
  await assert.rejects(daemon.driverCall('zb0', 'permitJoin', ['soon']), /number of seconds/);
  await assert.rejects(daemon.driverCall('zb0', 'stop', []), /no operation "stop" \(operations: devices, permitJoin, readAttribute\)/);
  await assert.rejects(daemon.driverCall('nosuch', 'devices', []), /unknown driver "nosuch"/);
});
