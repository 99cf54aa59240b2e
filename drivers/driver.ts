import type { z } from 'zod';
import type { Clock } from '../src/core/clock';
import type { Logger } from '../src/core/logger';
import type { Quality, ReadingValue } from '../src/core/reading';
import type { SensorDecl } from '../src/config/sensor';

/**
 * The driver contract. A driver owns one physical interface (a serial bus, a BLE
 * radio, a GPIO chip, a simulator) and reaches hardware only through a narrow port.
 *
 * Call order: create() → start() → (emit readings, write() calls) → stop().
 * start() resolves once the driver is running; if it rejects, the supervisor logs,
 * counts and calls start() again after a backoff (never concurrently). stop() must
 * clear every timer and close every handle, and may be called after a failed start.
 * write() is only called between a resolved start() and stop(), one call at a
 * time per target (the arbiter serialises writes per actuator).
 */
export interface Driver {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Write a value to a target (an actuator binding validated by `targetSchema`). */
  write?(target: unknown, value: number | boolean): Promise<void>;
  /** Driver-specific health detail for the heartbeat and `fieldgate status`. */
  health?(): Record<string, unknown>;
}

/**
 * Optional capability: named operations an engineer may call on the running
 * driver through the control socket (e.g. Zigbee permitJoin, devices,
 * readAttribute). Each receives the CLI's arguments as given; it validates them.
 */
export interface OperableDriver extends Driver {
  readonly operations: Readonly<Record<string, (args: readonly unknown[]) => unknown>>;
}

export function isOperable(d: Driver): d is OperableDriver {
  const ops = (d as Partial<OperableDriver>).operations;
  return typeof ops === 'object' && ops !== null;
}

/** What the framework hands a driver. No globals: everything comes from here. */
export interface DriverContext {
  /** This driver instance's configured id. */
  id: string;
  log: Logger;
  clock: Clock;
  /** Directory where the driver may keep persistent state (created for it). */
  stateDir: string;
  /**
   * Hand one raw sample to the sensor's pipeline. Synchronous; cheap. `ts`
   * defaults to clock.now(), quality to 'good'. Unknown sensor ids are counted
   * and ignored.
   */
  emit(sensor: string, value: ReadingValue, quality?: Quality, ts?: number): void;
  /** Record a runtime error (counted, logged once per change of message). */
  reportError(err: unknown, sensor?: string): void;
}

/**
 * A driver kind in the registry: its config schema (z.strictObject with
 * `kind: z.literal(...)` and `id`), the sensors it declares, an optional schema
 * for actuator targets, and its factory. Heavy stacks are imported inside create().
 */
export interface DriverKind<C extends { kind: string; id: string } = { kind: string; id: string }> {
  kind: C['kind'];
  schema: z.ZodType<C>;
  /** Sensors declared in this driver's config, with the config path of each. */
  sensors(config: C): SensorDecl[];
  /** Schema of an actuator's `target` bound to this driver kind. */
  targetSchema?: z.ZodType;
  /**
   * What a target (already valid for targetSchema) will really hold when `value`
   * is written: the value itself, the value it is rounded to, or why it cannot
   * be written at all. Pure; used to validate commands before they are accepted.
   */
  targetValue?(target: unknown, value: number | boolean): TargetValue;
  create(config: C, ctx: DriverContext): Driver | Promise<Driver>;
}

export type TargetValue = { value: number | boolean; rounded: boolean } | { error: string };

/** What an actuator's target really holds for `value`, by its driver's kind; undefined when the kind does not say. */
export type ActuatorTargetValue = (actuator: { driver: string; target: unknown }, value: number | boolean) => TargetValue | undefined;

/**
 * Thrown by start() when the hardware is absent or inaccessible in a way retrying
 * soon will not fix (no Bluetooth HCI, not a Pi, permission denied). The
 * supervisor marks the driver `unavailable` with the reason and fix, keeps the
 * rest of the daemon running, and retries at a slow pace.
 */
export class DriverUnavailableError extends Error {
  constructor(message: string, readonly fix?: string) {
    super(message);
    this.name = 'DriverUnavailableError';
  }
}
