import type { SimSensorConfig } from './schema';

/**
 * The noiseless value of a waveform at sample n (t = n × interval since start).
 * `prev` is the previous noiseless value (random walk, thermal), `heating` the
 * state of the thermal sensor's heater output.
 */
export function waveValue(c: SimSensorConfig, n: number, prev: number, rnd: () => number, heating: boolean): number {
  const t = n * c.interval;
  const span = c.max - c.min;
  switch (c.waveform) {
    case 'sine':
      return c.min + span / 2 + (span / 2) * Math.sin((2 * Math.PI * t) / c.period);
    case 'ramp':
      return c.min + (span * (t % c.period)) / c.period;
    case 'square':
      return t % c.period < c.period / 2 ? c.max : c.min;
    case 'counter':
      return c.start + n;
    case 'constant':
      return c.value;
    case 'randomWalk': {
      if (n === 0) return c.start;
      const next = prev + (rnd() * 2 - 1) * c.step;
      return Math.min(c.max, Math.max(c.min, next));
    }
    case 'thermal': {
      if (n === 0) return c.start;
      const target = heating ? (c.hot ?? c.max) : c.min;
      const delta = (c.step * c.interval) / 1000;
      if (Math.abs(target - prev) <= delta) return target;
      return prev + Math.sign(target - prev) * delta;
    }
  }
}
