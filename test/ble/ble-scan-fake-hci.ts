// Runs `fieldgate ble scan --seconds 1` in this process with the real noble on a fake
// HCI socket (scenario from FAKE_HCI_SCENARIO), for noble-hci.test.ts. Exits by itself
// or not at all: that is what the test checks.
import { hciState, installFakeHciSocket, type HciScenario } from './fake-hci-socket';
import { main } from '../../src/cli/main';

installFakeHciSocket();
hciState.scenario = (process.env.FAKE_HCI_SCENARIO ?? 'down') as HciScenario;
void main(['ble', 'scan', '--seconds', '1']).then((code) => {
  process.exitCode = code;
});
