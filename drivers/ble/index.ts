/** The ble driver: its registry kind (lazy implementation) and, for tests and tools, its classes and fakes. */
export { createBleDriverKind, bleDriver } from './kind';
export { BleDriver, type BleDriverOptions } from './ble-driver';
export { FakeBleRadio, FakePeripheral, loadRecording, type AdvertisementRecording } from './fake-radio';
export type { BleRadio, Advertisement } from './radio';
