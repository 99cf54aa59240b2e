import type { PidConfig } from './schema';

/**
 * A discrete PID controller, stepped at a fixed sample time dt (seconds):
 *
 *   e  = setpoint − input            (input − setpoint when reverse)
 *   P  = kp · e
 *   I += ki · e · dt,  then I is clamped to [min, max]       (anti-windup)
 *   D  = −kd · Δinput / dt           (on the measurement: no kick on setpoint change;
 *                                     sign flipped when reverse; 0 on the first step)
 *   output = clamp(P + I + D, min, max)
 */
export class Pid {
  private integral = 0;
  private lastInput = NaN;

  constructor(private readonly cfg: PidConfig) {}

  step(input: number, dtS: number): number {
    const c = this.cfg;
    const dir = c.reverse ? -1 : 1;
    const e = dir * (c.setpoint - input);
    this.integral = clamp(this.integral + c.ki * e * dtS, c.min, c.max);
    const d = Number.isNaN(this.lastInput) ? 0 : (-dir * c.kd * (input - this.lastInput)) / dtS;
    this.lastInput = input;
    return clamp(c.kp * e + this.integral + d, c.min, c.max);
  }

  /** Forget the integral and last input (after a failsafe or a reload of a changed rule). */
  reset(): void {
    this.integral = 0;
    this.lastInput = NaN;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
