import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapClusterCommand, mapClusterReport } from '../../drivers/zigbee/clusters';

// Expected values from the ZCL specification's attribute definitions.
test('measurement clusters: temperature /100, humidity /100, pressure hPa, illuminance 10^((v-1)/10000)', () => {
  assert.deepEqual(mapClusterReport('msTemperatureMeasurement', { measuredValue: 2150 }), [{ field: 'temperature', value: 21.5 }]);
  assert.deepEqual(mapClusterReport('msTemperatureMeasurement', { measuredValue: -550 }), [{ field: 'temperature', value: -5.5 }]);
  assert.deepEqual(mapClusterReport('msRelativeHumidity', { measuredValue: 4525 }), [{ field: 'humidity', value: 45.25 }]);
  assert.deepEqual(mapClusterReport('msPressureMeasurement', { measuredValue: 1013 }), [{ field: 'pressure', value: 1013 }]);
  assert.deepEqual(mapClusterReport('msIlluminanceMeasurement', { measuredValue: 20001 }), [{ field: 'illuminance', value: 100 }]); // log10(100) = 2
  assert.deepEqual(mapClusterReport('msIlluminanceMeasurement', { measuredValue: 0 }), [{ field: 'illuminance', value: 0 }]);
  const lux = mapClusterReport('msIlluminanceMeasurement', { measuredValue: 30001 })[0].value;
  assert.ok(Math.abs(lux - 1000) < 1e-9, String(lux));
});

test('invalid ZCL values produce nothing', () => {
  assert.deepEqual(mapClusterReport('msTemperatureMeasurement', { measuredValue: -32768 }), []);
  assert.deepEqual(mapClusterReport('msRelativeHumidity', { measuredValue: 0xffff }), []);
  assert.deepEqual(mapClusterReport('msIlluminanceMeasurement', { measuredValue: 0xffff }), []);
  assert.deepEqual(mapClusterReport('genPowerCfg', { batteryPercentageRemaining: 0xff, batteryVoltage: 0xff }), []);
  assert.deepEqual(mapClusterReport('msTemperatureMeasurement', { measuredValue: 'warm' }), []);
  assert.deepEqual(mapClusterReport('closuresWindowCovering', { currentPositionLiftPercentage: 50 }), []);
});

test('binary, power configuration and metering clusters', () => {
  assert.deepEqual(mapClusterReport('msOccupancySensing', { occupancy: 1 }), [{ field: 'occupancy', value: 1 }]);
  assert.deepEqual(mapClusterReport('genOnOff', { onOff: false }), [{ field: 'onOff', value: 0 }]);
  assert.deepEqual(mapClusterReport('genPowerCfg', { batteryPercentageRemaining: 173, batteryVoltage: 29 }), [
    { field: 'battery', value: 86.5 },
    { field: 'batteryVoltage', value: 2.9 },
  ]);
  assert.deepEqual(mapClusterReport('haElectricalMeasurement', { activePower: 1234, rmsVoltage: 230, rmsCurrent: 540 }), [
    { field: 'power', value: 1234 },
    { field: 'voltage', value: 230 },
    { field: 'current', value: 540 },
  ]);
  // uint48 as [high, low]: 1 × 2^32 + 5
  assert.deepEqual(mapClusterReport('seMetering', { currentSummDelivered: [1, 5] }), [{ field: 'energy', value: 4294967301 }]);
});

// zigbee-herdsman-converters (src/converters/fromZigbee.ts, ias_contact_alarm_1 and
// ias_contact_alarm_1_report): contact = !(zoneStatus & 1). ZCL 8.2.2.2.1.3: bit 0 "Alarm1"
// set = opened (for a contact switch), so contact 1 = closed, 0 = open.
test('IAS zone: contact = !(zoneStatus bit 0), from the statusChangeNotification command and from the attribute', () => {
  assert.deepEqual(mapClusterCommand('ssIasZone', 'statusChangeNotification', { zonestatus: 0, extendedstatus: 0, zoneID: 0, delay: 0 }), [{ field: 'contact', value: 1 }]);
  assert.deepEqual(mapClusterCommand('ssIasZone', 'statusChangeNotification', { zonestatus: 1, extendedstatus: 0, zoneID: 0, delay: 0 }), [{ field: 'contact', value: 0 }]);
  // bit 2 (tamper) and bit 3 (battery low) do not touch the contact
  assert.deepEqual(mapClusterCommand('ssIasZone', 'statusChangeNotification', { zonestatus: 0b1100 }), [{ field: 'contact', value: 1 }]);
  assert.deepEqual(mapClusterReport('ssIasZone', { zoneStatus: 0b101 }), [{ field: 'contact', value: 0 }]);
  assert.deepEqual(mapClusterReport('ssIasZone', { zoneStatus: 0b100 }), [{ field: 'contact', value: 1 }]);
  assert.deepEqual(mapClusterCommand('ssIasZone', 'enrollRequest', { zonetype: 21, manucode: 4151 }), []);
  assert.deepEqual(mapClusterCommand('genOnOff', 'toggle', {}), []);
});
