/** What real hardware this machine has, for tests that skip themselves when it is present. */
import { loadNoble } from '../../drivers/ble/noble-radio';

/** True when noble can open hci0 (tests of the "no Bluetooth" path skip then). */
export function hasBluetooth(): boolean {
  try {
    loadNoble(0);
    return true;
  } catch {
    return false;
  }
}
