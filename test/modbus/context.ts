import assert from 'node:assert/strict';
import { systemClock, type Clock } from '../../src/core/clock';
import { memoryLogger } from '../../src/core/logger';
import type { Quality, ReadingValue } from '../../src/core/reading';
import type { DriverContext } from '../../drivers/driver';
import { modbusDriverSchema, type ModbusDriverConfig } from '../../drivers/modbus/schema';

export interface Emitted {
  sensor: string;
  value: ReadingValue;
  quality: Quality;
  ts: number;
}

export type RecordingContext = DriverContext & { emitted: Emitted[]; errors: { err: unknown; sensor?: string }[]; log: ReturnType<typeof memoryLogger> };

/** A DriverContext that records emits and errors; real clock unless one is given. */
export function recordingContext(clock: Clock = systemClock): RecordingContext {
  const emitted: Emitted[] = [];
  const errors: { err: unknown; sensor?: string }[] = [];
  return {
    id: 'mb',
    log: memoryLogger('debug'),
    clock,
    stateDir: '/nonexistent',
    emitted,
    errors,
    emit: (sensor, value, quality = 'good', ts = clock.now()) => emitted.push({ sensor, value, quality, ts }),
    reportError: (err, sensor) => errors.push({ err, sensor }),
  };
}

/** Parse a driver config written in test shorthand (input form, defaults applied). */
export function modbusConfig(input: unknown): ModbusDriverConfig {
  return modbusDriverSchema.parse(input);
}

export const last = (ctx: RecordingContext, sensor: string): Emitted | undefined => ctx.emitted.filter((e) => e.sensor === sensor).at(-1);
export const readingsOf = (ctx: RecordingContext, sensor: string): Emitted[] => ctx.emitted.filter((e) => e.sensor === sensor);

/** Every point of a typeMatrix() read its expected value with good quality. */
export function assertTypeMatrix(ctx: Parameters<typeof last>[0], expected: Map<string, number | string>): void {
  for (const [id, want] of expected) {
    const got = last(ctx, id);
    assert.equal(got?.quality, 'good', id);
    if (typeof want === 'number') assert.ok(Math.abs((got?.value as number) - want) < 1e-9, `${id}: ${got?.value} != ${want}`);
    else assert.equal(got?.value, want, id);
  }
}
