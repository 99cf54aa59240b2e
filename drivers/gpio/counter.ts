import { RATE_UNITS, type GpioCounterConfig } from './schema';

/**
 * Pulse counting for one input: pulses in the current rate window and the
 * running total in factor units (litres, kWh ...). The total is kept as a
 * persisted base plus pulses since start so repeated additions of a factor
 * like 0.1 do not accumulate floating-point error.
 */
export class PulseCounter {
  private windowPulses = 0;
  private pulsesSinceStart = 0;

  constructor(
    private readonly config: GpioCounterConfig,
    private readonly startTotal: number,
  ) {}

  pulse(): void {
    this.windowPulses++;
    this.pulsesSinceStart++;
  }

  get pulses(): number {
    return this.pulsesSinceStart;
  }

  /** Running total in factor units. */
  get total(): number {
    return roundNoise(this.startTotal + this.pulsesSinceStart * this.config.factor);
  }

  /** Close the current window of `windowMs`: the rate in factor units per rateUnit, and reset. */
  closeWindow(windowMs: number): number {
    const units = this.windowPulses * this.config.factor;
    this.windowPulses = 0;
    return roundNoise((units * RATE_UNITS[this.config.rateUnit]) / windowMs);
  }
}

/** Drop binary floating-point noise (0.30000000000000004 → 0.3). */
function roundNoise(x: number): number {
  return Number(x.toPrecision(12));
}
