/** The gpio driver: its registry kind (lazy implementation) and, for tests and tools, its classes and fakes. */
export { makeGpioDriverKind, gpioDriver } from './kind';
export { GpioDriver, type GpioDriverOptions } from './gpio';
export { FakeGpioChip } from './fake';
export type { GpioLine, GpioLineFactory, Level, LineRequest } from './line';
