import type { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import type { Quality, ReadingValue } from '../../src/core/reading';
import type { DriverContext } from '../../drivers/driver';

export interface Emitted {
  sensor: string;
  value: ReadingValue;
  quality: Quality;
  ts: number;
}

/** A DriverContext that records emitted readings and reported errors. */
export function recordingContext(clock: VirtualClock, stateDir: string): DriverContext & { emitted: Emitted[]; errors: { err: unknown; sensor?: string }[] } {
  const emitted: Emitted[] = [];
  const errors: { err: unknown; sensor?: string }[] = [];
  return {
    id: 'test',
    log: silentLogger,
    clock,
    stateDir,
    emitted,
    errors,
    emit: (sensor, value, quality = 'good', ts = clock.now()) => emitted.push({ sensor, value, quality, ts }),
    reportError: (err, sensor) => errors.push({ err, sensor }),
  };
}

export { tempDir } from '../helpers/temp';
