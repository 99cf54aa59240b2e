import { EventEmitter } from 'node:events';
import Module from 'node:module';
import * as path from 'node:path';

/**
 * A stand-in for @abandonware/bluetooth-hci-socket's native BluetoothHciSocket,
 * the port under noble: the real noble (lib/hci-socket/hci.js) runs on it.
 * Behaves as src/BluetoothHciSocket.cpp does:
 *  - constructor: socket(AF_BLUETOOTH, ...) — throws EAFNOSUPPORT on a kernel without Bluetooth;
 *  - bindRaw(devId): bind to hciN — throws ENODEV when there is no such adapter;
 *  - isDevUp(): HCIGETDEVINFO's HCI_UP flag (false after `hciconfig hci0 down`, rfkill);
 *  - start(): uv_poll_start on the fd, which keeps the event loop alive until stop();
 *  - write(): the command goes to the controller; a silent controller never answers.
 * Errors are shaped like Nan::ErrnoException: message "CODE, strerror", errno, code, syscall.
 */
export type HciScenario = 'no-kernel-support' | 'no-adapter' | 'down' | 'silent';

export const hciState: { scenario: HciScenario; sockets: FakeHciSocket[] } = { scenario: 'no-adapter', sockets: [] };

function errno(code: string, no: number, text: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}, ${text}`), { errno: no, code, syscall });
}

export class FakeHciSocket extends EventEmitter {
  started = false;
  bound = false;
  private keepAlive?: NodeJS.Timeout;

  constructor() {
    super();
    if (hciState.scenario === 'no-kernel-support') throw errno('EAFNOSUPPORT', 97, 'Address family not supported by protocol', 'socket');
    hciState.sockets.push(this);
  }

  bindRaw(devId?: number): number {
    if (hciState.scenario === 'no-adapter') throw errno('ENODEV', 19, 'No such device', 'bind');
    this.bound = true;
    return devId ?? 0;
  }

  bindUser(): number {
    throw errno('ENODEV', 19, 'No such device', 'bind');
  }

  isDevUp(): boolean {
    return hciState.scenario !== 'down';
  }

  start(): void {
    this.started = true;
    // the native uv_poll handle is referenced: the process cannot exit while it runs
    this.keepAlive ??= setInterval(() => undefined, 1 << 30);
  }

  stop(): void {
    this.started = false;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  setFilter(): void {}
  write(): void {} // a silent (or down) controller: nothing comes back
  cleanup(): void {}
  getDeviceList(): { devId: number; devUp: boolean; idVendor: null; idProduct: null; busNumber: null; deviceAddress: null }[] {
    return hciState.scenario === 'no-adapter' ? [] : [{ devId: 0, devUp: hciState.scenario !== 'down', idVendor: null, idProduct: null, busNumber: null, deviceAddress: null }];
  }
}

/** Make noble's `require('@abandonware/bluetooth-hci-socket')` return FakeHciSocket. Call before noble loads. */
export function installFakeHciSocket(): void {
  const nobleDir = path.dirname(require.resolve('@abandonware/noble/package.json'));
  const id = require.resolve('@abandonware/bluetooth-hci-socket', { paths: [path.join(nobleDir, 'lib', 'hci-socket')] });
  const m = new Module(id);
  m.filename = id;
  m.loaded = true;
  m.exports = FakeHciSocket;
  require.cache[id] = m;
}
