import type { DriverContext } from '../../drivers/driver';
import { VirtualClock } from '../../src/core/clock';
import { errorMessage, memoryLogger } from '../../src/core/logger';
import type { Quality, ReadingValue } from '../../src/core/reading';

export interface Emitted {
  sensor: string;
  value: ReadingValue;
  quality: Quality;
  ts: number;
}

/** A DriverContext that records what a driver emits and reports, on a virtual clock. */
export function recordingContext(id = 'radio0') {
  const clock = new VirtualClock();
  const log = memoryLogger('debug');
  const emitted: Emitted[] = [];
  const errors: { message: string; sensor?: string }[] = [];
  const ctx: DriverContext = {
    id,
    log,
    clock,
    stateDir: '/nonexistent',
    emit: (sensor, value, quality = 'good', ts = clock.now()) => emitted.push({ sensor, value, quality, ts }),
    reportError: (err, sensor) => errors.push({ message: errorMessage(err), sensor }),
  };
  const values = (sensor: string) => emitted.filter((e) => e.sensor === sensor).map((e) => e.value);
  return { ctx, clock, log, emitted, errors, values };
}
