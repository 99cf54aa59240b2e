import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { BleDriver, FakeBleRadio, loadRecording } from '../../drivers/ble';
import { bleDriverSchema } from '../../drivers/ble/schema';
import { recordingContext } from './driver-context';

const recording = loadRecording(path.join(__dirname, '../fixtures/ble/site-a.json'));

function setup(devices: unknown[], extra: Record<string, unknown> = {}) {
  const r = recordingContext('ble0');
  const config = bleDriverSchema.parse({ kind: 'ble', id: 'ble0', devices, ...extra });
  const radio = new FakeBleRadio(r.clock);
  const driver = new BleDriver(config, r.ctx, { radio, random: () => 1 });
  return { ...r, radio, driver };
}

const siteDevices = [
  {
    address: 'A4:C1:38:00:00:01',
    name: 'cold-room',
    format: 'bthome',
    sensors: [
      { id: 'cold.temp', field: 'temperature' },
      { id: 'cold.hum', field: 'humidity' },
      { id: 'cold.rssi', field: 'rssi' },
    ],
  },
  { address: 'cb:b8:33:4c:88:4f', sensors: [{ id: 'ruuvi.pressure', field: 'pressure' }, { id: 'ruuvi.volts', field: 'voltage' }] },
  { address: 'A4-C1-38-12-34-56', format: 'atc', sensors: [{ id: 'office.temp', field: 'temperature' }, { id: 'office.battery', field: 'battery' }] },
];

test('recorded advertisements become readings for configured MACs, stamped with their receive time', async (t) => {
  const { driver, radio, clock, emitted, values } = setup(siteDevices);
  t.after(() => radio.close());
  await driver.start();
  const t0 = clock.now();
  radio.replay(recording);
  await clock.advanceAsync(10_000);
  assert.deepEqual(values('cold.temp'), [25.06, 25.1]);
  assert.deepEqual(values('cold.hum'), [50.55, 50.55]);
  assert.deepEqual(values('cold.rssi'), [-61, -60]);
  assert.deepEqual(values('ruuvi.pressure'), [1000.44]);
  assert.deepEqual(values('ruuvi.volts'), [2.977]);
  assert.deepEqual(values('office.temp'), [23.4, 23.5]);
  assert.deepEqual(values('office.battery'), [87, 87]);
  assert.equal(emitted.find((e) => e.sensor === 'cold.temp')?.ts, t0 + 100);
  assert.ok(emitted.every((e) => e.quality === 'good'));
  await driver.stop();
});

test('a repeated packet (same BTHome packet id) is not emitted twice; health keeps the newest RSSI', async (t) => {
  const { driver, radio, clock, values } = setup(siteDevices);
  t.after(() => radio.close());
  await driver.start();
  radio.replay(recording);
  await clock.advanceAsync(200);
  assert.deepEqual(values('cold.temp'), [25.06]); // packets at 100 ms and 150 ms share packet id 7
  const h = driver.health() as { devices: { address: string; rssi: number; lastSeen: number; advertisements: number; packets: number }[] };
  const cold = h.devices.find((d) => d.address === 'a4:c1:38:00:00:01');
  assert.equal(cold?.rssi, -63);
  assert.equal(cold?.advertisements, 2);
  assert.equal(cold?.packets, 1);
  assert.equal(cold?.lastSeen, clock.now() - 50);
  await driver.stop();
});

test('a truncated payload is counted and reported, not thrown; later packets still decode', async (t) => {
  const { driver, radio, clock, errors, values } = setup(siteDevices);
  t.after(() => radio.close());
  await driver.start();
  radio.replay(recording);
  await clock.advanceAsync(10_000);
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /a4:c1:38:12:34:56: ATC1441: needs 13 bytes, got 3/);
  const h = driver.health() as { devices: { address: string; decodeErrors: number }[] };
  assert.equal(h.devices.find((d) => d.address === 'a4:c1:38:12:34:56')?.decodeErrors, 1);
  radio.advertise({ address: 'A4:C1:38:12:34:56', rssi: -70, serviceData: [{ uuid: '181a', data: 'a4c138123456 00f0 2d 57 0b86 14'.replace(/ /g, '') }] });
  assert.deepEqual(values('office.temp'), [23.4, 23.5, 24]);
  await driver.stop();
});

test('without a packet counter, readings are limited to one per minInterval', async (t) => {
  const { driver, radio, clock, values } = setup([{ address: '11:22:33:44:55:66', format: 'none', minInterval: '5s', sensors: [{ id: 'tag.rssi', field: 'rssi' }] }]);
  t.after(() => radio.close());
  await driver.start();
  for (let i = 0; i < 12; i++) {
    radio.advertise({ address: '11:22:33:44:55:66', rssi: -50 - i });
    await clock.advanceAsync(1000);
  }
  assert.deepEqual(values('tag.rssi'), [-50, -55, -60]);
  await driver.stop();
});

test('scan stall: no advertisement for scanStallTimeout restarts the scan (virtual time)', async (t) => {
  const { driver, radio, clock, values, log } = setup(siteDevices, { scanStallTimeout: '60s' });
  t.after(() => radio.close());
  await driver.start();
  assert.equal(radio.scanStarts, 1);
  radio.advertise({ address: 'A4:C1:38:00:00:01', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '400001' }] });
  await clock.advanceAsync(30_000);
  radio.stall(); // noble keeps "scanning" but reports nothing
  assert.equal(radio.advertise({ address: 'A4:C1:38:00:00:01', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '4000020161' }] }), false);
  await clock.advanceAsync(29_000); // 59 s after the last advertisement
  assert.equal(radio.scanStarts, 1);
  await clock.advanceAsync(1_000); // 60 s
  assert.equal(radio.scanStarts, 2);
  assert.ok(log.lines.some((l) => l.msg === 'restarting BLE scan' && /no advertisement for 60000 ms/.test(String(l.reason))));
  assert.equal(radio.advertise({ address: 'A4:C1:38:00:00:01', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '40000302c409' }] }), true);
  assert.deepEqual(values('cold.temp'), [25]);
  // still silent: the watchdog keeps restarting every 60 s
  await clock.advanceAsync(120_000);
  assert.equal(radio.scanStarts, 4);
  assert.equal((driver.health() as { scan: { restarts: number } }).scan.restarts, 3);
  await driver.stop();
  assert.equal(clock.pending(), 0, 'stop() clears every timer');
});

const gattDevice = {
  address: 'C0:FF:EE:00:00:01',
  format: 'none',
  gatt: [
    { id: 'pump.temp', service: '181a', characteristic: '2a6e', type: 'int16', scale: 0.01, mode: 'notify' },
    { id: 'pump.flow', service: 'ffe0', characteristic: 'ffe1', type: 'uint16', endian: 'big', mode: 'poll', interval: '10s' },
  ],
};
const TEMP = { service: '181a', characteristic: '2a6e' };
const FLOW = { service: 'ffe0', characteristic: 'ffe1' };

function gattSetup() {
  const s = setup([gattDevice], { reconnect: { initial: '2s', max: '30s' } });
  const p = s.radio.peripheral('c0:ff:ee:00:00:01');
  p.setValue(TEMP, Buffer.from([0x29, 0x09])); // 2345 × 0.01
  p.setValue(FLOW, Buffer.from([0x01, 0x2c])); // 300 big-endian
  return { ...s, p };
}

test('GATT: notifications and polled reads become readings; the scan is restarted after the connection', async (t) => {
  const { driver, radio, clock, p, values } = gattSetup();
  t.after(() => radio.close());
  await driver.start();
  await clock.advanceAsync(0);
  assert.equal(p.connected, true);
  assert.equal(radio.scanning, true, 'connect stopped the scan; the driver restarted it');
  assert.equal(radio.scanStarts, 2);
  p.notify(TEMP, Buffer.from([0xce, 0xfd])); // -562 × 0.01
  p.setValue(FLOW, Buffer.from([0x01, 0x2d]));
  await clock.advanceAsync(10_000);
  assert.deepEqual(values('pump.temp'), [-5.62]);
  assert.deepEqual(values('pump.flow'), [300, 301]);
  await driver.stop();
  assert.equal(p.connected, false);
  assert.equal(clock.pending(), 0);
});

test('GATT: failed connects and a dropped link are retried with exponential backoff', async (t) => {
  const { driver, radio, clock, p, errors } = gattSetup();
  t.after(() => radio.close());
  p.failConnects = 2;
  await driver.start();
  await clock.advanceAsync(0);
  assert.equal(p.connects, 1);
  assert.equal(errors.length, 1);
  await clock.advanceAsync(1_999);
  assert.equal(p.connects, 1);
  await clock.advanceAsync(1); // 2 s after the first failure
  assert.equal(p.connects, 2);
  await clock.advanceAsync(3_999);
  assert.equal(p.connects, 2);
  await clock.advanceAsync(1); // 4 s after the second failure
  assert.equal(p.connects, 3);
  assert.equal(p.connected, true);
  // backoff resets once connected: a lost link retries after 2 s again
  p.dropLink('out of range');
  await clock.advanceAsync(1_999);
  assert.equal(p.connected, false);
  await clock.advanceAsync(1);
  assert.equal(p.connected, true);
  const gatt = (driver.health() as { devices: { gatt: Record<string, unknown> }[] }).devices[0].gatt;
  assert.deepEqual(gatt, { state: 'connected', connects: 2, failures: 2, disconnects: 1, lastError: undefined });
  await driver.stop();
  assert.equal(clock.pending(), 0);
});

test('write: encodes the value and writes it over the open link, or over a short-lived connection', async (t) => {
  const { driver, radio, clock, p } = gattSetup();
  t.after(() => radio.close());
  await driver.start();
  await clock.advanceAsync(0);
  const target = { device: 'C0:FF:EE:00:00:01', service: 'ffe0', characteristic: 'ffe2', type: 'uint16', endian: 'big', offset: 0, scale: 0.1, withoutResponse: false };
  await driver.write(target, 21.5);
  assert.deepEqual(p.writes.map((w) => w.data.toString('hex')), ['00d7']); // 215 big-endian
  const other = radio.peripheral('C0:FF:EE:00:00:02');
  other.setValue({ service: 'ffe0', characteristic: 'ffe2' }, Buffer.alloc(1));
  await driver.write({ ...target, device: 'C0:FF:EE:00:00:02', type: 'uint8', scale: 1 }, true);
  assert.deepEqual(other.writes.map((w) => w.data.toString('hex')), ['01']);
  assert.equal(other.connected, false);
  await assert.rejects(driver.write({ ...target, type: 'int8', scale: 1 }, 300), /does not fit int8/);
  await driver.stop();
});

test('BTHome: an encrypted device decodes with its bindkey; a second voltage is reached by occurrence (bthome-ble vectors)', async (t) => {
  const { driver, radio, errors, values } = setup([
    {
      address: '54:48:E6:8F:80:A5',
      format: 'bthome',
      bindkey: '231d39c1d7cc1ab1aee224cd096db932',
      sensors: [{ id: 'enc.temp', field: 'temperature' }, { id: 'enc.hum', field: 'humidity' }],
    },
    {
      address: 'A4:C1:38:8D:18:B2',
      format: 'bthome',
      sensors: [
        { id: 'plug.mains', field: 'voltage' },
        { id: 'plug.cell', field: 'voltage', occurrence: 2 },
        { id: 'plug.none', field: 'voltage', occurrence: 3 },
      ],
    },
  ]);
  t.after(() => radio.close());
  await driver.start();
  radio.advertise({ address: '54:48:E6:8F:80:A5', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '41a47266c95f730011223378237214' }] });
  radio.advertise({ address: 'A4:C1:38:8D:18:B2', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '4000010b0000004a0d0901330ce90c' }] });
  assert.deepEqual(values('enc.temp'), [25.06]);
  assert.deepEqual(values('enc.hum'), [50.55]);
  assert.deepEqual(values('plug.mains'), [231.7]);
  assert.deepEqual(values('plug.cell'), [3.305]);
  assert.deepEqual(values('plug.none'), []);
  assert.deepEqual(errors, []);
  await driver.stop();
});

test('BTHome: an encrypted frame without a configured bindkey is reported with the fix', async (t) => {
  const { driver, radio, errors, values } = setup([{ address: '54:48:E6:8F:80:A5', format: 'bthome', sensors: [{ id: 'enc.temp', field: 'temperature' }] }]);
  t.after(() => radio.close());
  await driver.start();
  radio.advertise({ address: '54:48:E6:8F:80:A5', rssi: -60, serviceData: [{ uuid: 'fcd2', data: '41a47266c95f730011223378237214' }] });
  assert.deepEqual(values('enc.temp'), []);
  assert.match(errors[0]?.message ?? '', /54:48:e6:8f:80:a5: BTHome: payload is encrypted: set `bindkey`/);
  await driver.stop();
});
