import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

/** A fresh temp directory removed after the test. */
export function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
