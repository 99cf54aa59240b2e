import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageEvent } from '../../drivers/zigbee/herdsman-controller';

// Messages shaped as zigbee-herdsman 10.9.5's Controller emits 'message'
// (dist/controller/controller.js onZclPayload): type "attributeReport" / "readResponse"
// for global report/readRsp frames, `command${Name}` with the frame's parsed payload for
// cluster-specific commands; `cluster` is the cluster name, `data` keyed by the ZCL
// definition's parameter names (ssIasZone statusChangeNotification: zonestatus,
// extendedstatus, zoneID, delay — all lower-case "status").
const device = { ieeeAddr: '0x00158d000aa1b2c3' };
const endpoint = { ID: 1 };
const meta = { zclTransactionSequenceNumber: 12, manufacturerCode: undefined, frameControl: undefined, rawData: Buffer.from([0x19, 0x0c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]) };

test('an IAS zone statusChangeNotification (how contact sensors report) becomes a cluster command event', () => {
  const m = { type: 'commandStatusChangeNotification', device, endpoint, data: { zonestatus: 1, extendedstatus: 0, zoneID: 0, delay: 0 }, linkquality: 87, groupID: 0, cluster: 'ssIasZone', meta };
  assert.deepEqual(messageEvent(m), {
    type: 'clusterCommand',
    ieee: '0x00158d000aa1b2c3',
    endpoint: 1,
    cluster: 'ssIasZone',
    command: 'statusChangeNotification',
    payload: { zonestatus: 1, extendedstatus: 0, zoneID: 0, delay: 0 },
    linkquality: 87,
  });
});

test('attribute reports and read responses stay attribute reports; raw frames and global reads do not become values', () => {
  const report = { type: 'attributeReport', device, endpoint, data: { measuredValue: 2150 }, linkquality: 120, groupID: 0, cluster: 'msTemperatureMeasurement', meta };
  assert.deepEqual(messageEvent(report), { type: 'attributeReport', ieee: device.ieeeAddr, endpoint: 1, cluster: 'msTemperatureMeasurement', attributes: { measuredValue: 2150 }, linkquality: 120 });
  assert.equal(messageEvent({ ...report, type: 'readResponse' })?.type, 'attributeReport');
  assert.equal(messageEvent({ ...report, type: 'raw', data: Buffer.from([1, 2]), cluster: 64513 }), undefined);
  assert.equal(messageEvent({ ...report, type: 'read', data: ['measuredValue'] }), undefined);
});
