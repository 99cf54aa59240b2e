import * as path from 'node:path';
import type { ActuatorConfig } from '../config/actuator';
import type { GatewayConfig } from '../config/schema';
import { systemClock } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { driverKind } from '../../drivers';
import type { Driver } from '../../drivers/driver';

/**
 * Write every actuator's failsafe value through its driver, with no daemon
 * running — what `fieldgate failsafe` (the unit's ExecStopPost) does after an
 * abnormal end (OOM abort, kill -9, watchdog abort), when the daemon could not
 * write them itself. Each driver is created and started on its own, written to,
 * and stopped; nothing else of the daemon runs. Every write is logged.
 */
export interface FailsafeOutcome {
  actuator: string;
  driver: string;
  value?: boolean | number;
  outcome: 'written' | 'failed' | 'skipped';
  reason?: string;
}

export async function writeFailsafes(config: GatewayConfig, stateDir: string, log: Logger, timeoutMs: number): Promise<FailsafeOutcome[]> {
  const out: FailsafeOutcome[] = [];
  const byDriver = new Map<string, ActuatorConfig[]>();
  for (const a of config.actuators) {
    if (a.failsafe === undefined) out.push(note(log, { actuator: a.id, driver: a.driver, outcome: 'skipped', reason: 'no failsafe value configured' }));
    else if (!a.failsafeOnShutdown) out.push(note(log, { actuator: a.id, driver: a.driver, value: a.failsafe, outcome: 'skipped', reason: 'failsafeOnShutdown: false' }));
    else byDriver.set(a.driver, [...(byDriver.get(a.driver) ?? []), a]);
  }
  await Promise.all(
    [...byDriver].map(async ([id, actuators]) => {
      const dc = config.drivers.find((d) => d.id === id);
      const results = dc ? await writeThrough(dc, actuators, stateDir, log, timeoutMs) : actuators.map(() => 'driver not configured');
      actuators.forEach((a, i) => {
        const err = results[i];
        out.push(note(log, { actuator: a.id, driver: id, value: a.failsafe, outcome: err ? 'failed' : 'written', reason: err }));
      });
    }),
  );
  return out;
}

/** One driver: start, write each actuator's failsafe in turn, stop. Returns an error message (or undefined) per actuator. */
async function writeThrough(dc: { kind: string; id: string }, actuators: ActuatorConfig[], stateDir: string, log: Logger, timeoutMs: number): Promise<(string | undefined)[]> {
  let driver: Driver | undefined;
  const dlog = log.child({ driver: dc.id, kind: dc.kind });
  try {
    driver = await within(
      (async () => {
        const d = await driverKind(dc.kind).create(dc, {
          id: dc.id,
          log: dlog,
          clock: systemClock,
          stateDir: path.join(stateDir, 'drivers', dc.id),
          emit: () => undefined, // readings are not wanted here
          reportError: (err) => dlog.warn('driver error', { err: errorMessage(err) }),
        });
        await d.start();
        return d;
      })(),
      timeoutMs,
      `driver ${dc.id} did not start`,
    );
  } catch (err) {
    await driver?.stop().catch(() => undefined);
    return actuators.map(() => `driver ${dc.id} did not start: ${errorMessage(err)}`);
  }
  const errors: (string | undefined)[] = [];
  for (const a of actuators) {
    try {
      if (!driver.write) throw new Error(`driver ${dc.id} cannot write`);
      await within(driver.write(a.target, a.failsafe as boolean | number), timeoutMs, 'the write did not complete');
      errors.push(undefined);
    } catch (err) {
      errors.push(errorMessage(err));
    }
  }
  await within(driver.stop(), timeoutMs, 'stop').catch((err: unknown) => dlog.warn('driver stop failed', { err: errorMessage(err) }));
  return errors;
}

function note(log: Logger, o: FailsafeOutcome): FailsafeOutcome {
  const fields = { actuator: o.actuator, driver: o.driver, value: o.value, outcome: o.outcome, reason: o.reason };
  if (o.outcome === 'failed') log.error('failsafe write failed', fields);
  else log.info(o.outcome === 'written' ? 'failsafe written' : 'failsafe not written', fields);
  return o;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
