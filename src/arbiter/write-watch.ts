import type { ActuatorValue } from './validate';

/**
 * Follows one hold to its write outcome (Arbiter.watch). Callbacks run
 * synchronously inside the arbiter; they may call release()/watch() again.
 *
 *   deferred*  a gate (min on/off, rate limit, retry backoff) holds the write until `at`
 *   failed*    a write of the held value failed; the arbiter retries with backoff
 *   then exactly one of:
 *   written    the driver acknowledged the held value (or the actuator already had it)
 *   superseded the hold no longer decides the actuator: released, replaced, or outranked by `by`
 */
export interface WriteWatcher {
  deferred(at: number, reason: string): void;
  failed(err: unknown, attempt: number): void;
  written(value: ActuatorValue): void;
  superseded(by: string | undefined): void;
}
