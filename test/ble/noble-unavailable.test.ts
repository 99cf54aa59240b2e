import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BleDriver } from '../../drivers/ble';
import { bleDriverSchema } from '../../drivers/ble/schema';
import { DriverUnavailableError } from '../../drivers/driver';
import { recordingContext } from './driver-context';
import { hasBluetooth } from '../helpers/hardware';


test('without a Bluetooth HCI, the noble-backed driver reports unavailable with the reason and the fix', { skip: hasBluetooth() && 'this machine has a Bluetooth adapter' }, async () => {
  const { ctx, clock } = recordingContext('ble0');
  const driver = new BleDriver(bleDriverSchema.parse({ kind: 'ble', id: 'ble0', devices: [{ address: 'a4:c1:38:00:00:01' }] }), ctx);
  await assert.rejects(driver.start(), (err: unknown) => {
    assert.ok(err instanceof DriverUnavailableError);
    assert.match(err.message, /no Bluetooth adapter \(hci0\) found: this kernel has no Bluetooth support \(EAFNOSUPPORT/);
    assert.match(err.fix ?? '', /CAP_NET_RAW/);
    assert.match(err.fix ?? '', /setcap cap_net_raw/);
    return true;
  });
  await driver.stop(); // stop after a failed start is allowed and clean
  assert.equal(clock.pending(), 0);
});
