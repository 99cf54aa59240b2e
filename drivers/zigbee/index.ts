/** The zigbee driver: its registry kind (lazy implementation) and, for tests and tools, its classes and fakes. */
export { createZigbeeDriverKind, zigbeeDriver } from './kind';
export { ZigbeeDriver, type ZigbeeDriverOptions, type ZigbeeDeviceView } from './zigbee-driver';
export { FakeZigbeeController, loadZigbeeRecording, type ZigbeeRecording } from './fake-controller';
export type { ZigbeeController, ZigbeeEvent, ZigbeeDeviceInfo } from './controller';
