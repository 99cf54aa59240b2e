import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { FakeZigbeeController, ZigbeeDriver, loadZigbeeRecording, type ZigbeeDeviceView } from '../../drivers/zigbee';
import { zigbeeDriverSchema, zigbeeTargetSchema } from '../../drivers/zigbee/schema';
import { recordingContext } from '../ble/driver-context';

const recording = loadZigbeeRecording(path.join(__dirname, '../fixtures/zigbee/site-a.json'));
const TH = '0x00158d0001a2b3c4';
const PLUG = '0x0017880100ee11aa';
const PIR = '0x00124b0022334455';
const DOOR = '0x00158d000aa1b2c3';

const config = zigbeeDriverSchema.parse({
  kind: 'zigbee',
  id: 'zb0',
  adapter: { type: 'zstack', path: '/dev/ttyACM0' },
  retry: { initial: '5s', max: '60s' },
  availabilityTimeout: '1h',
  devices: [
    {
      ieee: TH,
      name: 'cold-room',
      sensors: [
        { id: 'cold.temp', field: 'temperature' },
        { id: 'cold.hum', field: 'humidity' },
        { id: 'cold.pressure', field: 'pressure' },
        { id: 'cold.battery', field: 'battery' },
        { id: 'cold.batteryV', field: 'batteryVoltage' },
      ],
      reporting: [{ cluster: 'msTemperatureMeasurement', attribute: 'measuredValue', min: '30s', max: '10m', change: 20 }],
    },
    { ieee: PLUG, name: 'heater-plug', sensors: [{ id: 'heater.on', field: 'onOff' }, { id: 'heater.watts', field: 'power', scale: 0.1 }] },
    { ieee: PIR, name: 'hall-pir', sensors: [{ id: 'hall.occupied', field: 'occupancy' }, { id: 'hall.lux', field: 'illuminance' }] },
    { ieee: DOOR, name: 'cold-room-door', sensors: [{ id: 'door.closed', field: 'contact' }] },
  ],
});

function setup() {
  const r = recordingContext('zb0');
  const controller = new FakeZigbeeController(r.clock);
  const driver = new ZigbeeDriver(config, r.ctx, { controller, random: () => 1 });
  return { ...r, controller, driver };
}

test('recorded cluster reports of configured devices become readings; strangers and invalid values do not', async (t) => {
  const { driver, controller, clock, values, emitted } = setup();
  t.after(() => controller.close());
  await driver.start();
  controller.replay(recording);
  await clock.advanceAsync(60_000);
  assert.deepEqual(values('cold.temp'), [21.5, -5.5]); // the 0x8000 report (invalid) is dropped
  assert.deepEqual(values('cold.hum'), [45.25]);
  assert.deepEqual(values('cold.pressure'), [1013]);
  assert.deepEqual(values('cold.battery'), [100]);
  assert.deepEqual(values('cold.batteryV'), [3]);
  assert.deepEqual(values('heater.on'), [1]);
  assert.deepEqual(values('heater.watts'), [123.4]);
  assert.deepEqual(values('hall.occupied'), [1, 0]);
  assert.deepEqual(values('hall.lux'), [100]);
  assert.ok(!emitted.some((e) => e.value === 99.99), 'the unconfigured device emits nothing');
  await driver.stop();
});

test('availability: last seen per device, leave events, silence beyond availabilityTimeout', async (t) => {
  const { driver, controller, clock } = setup();
  t.after(() => controller.close());
  await driver.start();
  const t0 = clock.now();
  controller.replay(recording);
  await clock.advanceAsync(60_000);
  const byIeee = (ieee: string) => driver.devices().find((d) => d.ieee === ieee) as ZigbeeDeviceView;
  assert.deepEqual(
    { name: byIeee(TH).name, lastSeen: byIeee(TH).lastSeen, available: byIeee(TH).available, model: byIeee(TH).model },
    { name: 'cold-room', lastSeen: t0 + 31_000, available: true, model: 'WSDCGQ11LM' },
  );
  assert.equal(byIeee(PIR).left, true);
  assert.equal(byIeee(PIR).available, false);
  await clock.advanceAsync(3_600_000); // cold-room silent for more than 1 h
  assert.equal(byIeee(TH).available, false);
  const health = driver.health() as { state: string; devices: ZigbeeDeviceView[] };
  assert.equal(health.state, 'running');
  assert.equal(health.devices.length, 5); // four configured + the stranger
  await driver.stop();
});

test('actuator targets: onOff and level send genOnOff / genLevelCtrl commands to the device by name', async (t) => {
  const { driver, controller } = setup();
  t.after(() => controller.close());
  controller.replay(recording); // puts the devices in the network
  await driver.start();
  const onOff = zigbeeTargetSchema.parse({ device: 'heater-plug', command: 'onOff' });
  await driver.write(onOff, true);
  await driver.write(onOff, 0);
  await driver.write(zigbeeTargetSchema.parse({ device: PIR, endpoint: 2, command: 'level', transition: 1.5 }), 300);
  assert.deepEqual(controller.commands, [
    { ieee: PLUG, endpoint: undefined, cluster: 'genOnOff', command: 'on', payload: {} },
    { ieee: PLUG, endpoint: undefined, cluster: 'genOnOff', command: 'off', payload: {} },
    { ieee: PIR, endpoint: 2, cluster: 'genLevelCtrl', command: 'moveToLevelWithOnOff', payload: { level: 254, transtime: 15 } },
  ]);
  await assert.rejects(driver.write({ device: 'nobody', command: 'onOff', transition: 0 }, 1), /unknown Zigbee device "nobody"/);
  await driver.stop();
});

test('permit join is bounded; reads go through the controller; reporting is configured after an interview', async (t) => {
  const { driver, controller, clock } = setup();
  t.after(() => controller.close());
  controller.replay(recording);
  await driver.start();
  assert.equal(await driver.permitJoin(600), 254);
  assert.equal(await driver.permitJoin(60), 60);
  // As an actuator target (the cloud's permit-join command): VALUE seconds, capped too.
  await driver.write({ command: 'permitJoin' }, 120);
  await driver.write({ command: 'permitJoin' }, 1000);
  assert.deepEqual(controller.permitJoins, [254, 60, 120, 254]);
  await driver.permitJoin(60);
  assert.equal((driver.health() as { permitJoinRemainingMs: number }).permitJoinRemainingMs, 60_000);
  controller.attributes.set(`${TH}/genBasic`, { modelId: 'WSDCGQ11LM', swBuildId: '3000-0001' });
  assert.equal(await driver.readAttribute('cold-room', 'genBasic', 'modelId'), 'WSDCGQ11LM');
  controller.emit({ type: 'deviceInterview', ieee: TH, status: 'successful' });
  await clock.advanceAsync(0);
  // Bound to the coordinator first: without the binding a standard device sends its reports to no one.
  assert.deepEqual(controller.reporting, [
    { ieee: TH, cluster: 'msTemperatureMeasurement', bound: true, items: [{ attribute: 'measuredValue', minimumReportInterval: 30, maximumReportInterval: 600, reportableChange: 20 }] },
  ]);
  assert.deepEqual(controller.bindings, [{ ieee: TH, endpoint: undefined, cluster: 'msTemperatureMeasurement' }]);
  await driver.stop();
});

test('adapter failures (Cannot lock port, ENOENT) and disconnects are retried with backoff; start() does not reject', async (t) => {
  const { driver, controller, clock, errors } = setup();
  t.after(() => controller.close());
  controller.startFailures.push(new Error('Error: Error Resource temporarily unavailable Cannot lock port'), new Error('No such file or directory, cannot open /dev/ttyACM0'));
  await driver.start(); // resolves: the rest of the daemon runs on
  assert.equal(controller.starts, 1);
  let h = driver.health() as { state: string; lastError: string; nextRetryInMs: number };
  assert.equal(h.state, 'backoff');
  assert.match(h.lastError, /Cannot lock port/);
  assert.equal(h.nextRetryInMs, 5000);
  await assert.rejects(driver.permitJoin(10), /not running \(backoff: .*Cannot lock port/);
  await clock.advanceAsync(5000);
  assert.equal(controller.starts, 2);
  await clock.advanceAsync(9_999); // second delay doubles to 10 s
  assert.equal(controller.starts, 2);
  await clock.advanceAsync(1);
  assert.equal(controller.starts, 3);
  assert.equal((driver.health() as { state: string }).state, 'running');
  assert.equal(errors.length, 2);

  controller.disconnect(); // USB unplugged
  await clock.advanceAsync(0);
  h = driver.health() as { state: string; lastError: string; nextRetryInMs: number };
  assert.equal(h.state, 'backoff');
  assert.match(h.lastError, /disconnected/);
  assert.equal(h.nextRetryInMs, 5000, 'backoff was reset by the successful start');
  await clock.advanceAsync(5000);
  assert.equal((driver.health() as { state: string }).state, 'running');
  await driver.stop();
  assert.equal(clock.pending(), 0);
});

test('stop() during backoff cancels the retry', async (t) => {
  const { driver, controller, clock } = setup();
  t.after(() => controller.close());
  controller.startFailures.push(new Error('Cannot lock port'));
  await driver.start();
  await driver.stop();
  assert.equal(clock.pending(), 0);
  await clock.advanceAsync(60_000);
  assert.equal(controller.starts, 1);
});

test('an IAS contact sensor reports through statusChangeNotification: 0 = closed → contact 1, alarm bit set = open → 0', async (t) => {
  const { driver, controller, clock, values } = setup();
  t.after(() => controller.close());
  controller.network.set(DOOR, { ieee: DOOR, interview: 'successful', endpoints: [1] });
  await driver.start();
  const note = (zonestatus: number) =>
    controller.emit({ type: 'clusterCommand', ieee: DOOR, endpoint: 1, cluster: 'ssIasZone', command: 'statusChangeNotification', payload: { zonestatus, extendedstatus: 0, zoneID: 0, delay: 0 } });
  note(1);
  note(0);
  await clock.advanceAsync(0);
  assert.deepEqual(values('door.closed'), [0, 1]);
  assert.equal(driver.devices().find((d) => d.ieee === DOOR)?.available, true, 'a notification is a sign of life');
  await driver.stop();
});

test('a failed binding is reported and reporting on that cluster is not claimed', async (t) => {
  const { driver, controller, clock, errors } = setup();
  t.after(() => controller.close());
  controller.replay(recording);
  await driver.start();
  controller.bindFailures.push(new Error('ZDO bind failed (status NOT_SUPPORTED)'));
  controller.emit({ type: 'deviceInterview', ieee: TH, status: 'successful' });
  await clock.advanceAsync(0);
  assert.deepEqual(controller.reporting, []);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /bind cold-room msTemperatureMeasurement to the coordinator: ZDO bind failed/);
  await driver.stop();
});
