import type { TimerHandle } from '../../src/core/clock';
import type { Driver, DriverContext } from '../driver';
import type { SimDriverConfig, SimSensorConfig } from './schema';
import { hashString, prng } from '../../src/core/prng';
import { waveValue } from './waveform';

/** Paced mode: the most of a late tick's backlog emitted at once, in ms of readings. */
const CATCH_UP_MS = 100;

interface SimSensorState {
  config: SimSensorConfig;
  n: number;
  prev: number;
  rnd: () => number;
  timer?: TimerHandle;
}

/**
 * The simulator driver: each sensor samples its waveform on its own interval
 * timer, then applies noise, spikes, dropouts and bad samples from a seeded
 * generator, so a run is reproducible. Outputs are plain named numbers that
 * actuators write and `thermal` sensors react to.
 */
export class SimDriver implements Driver {
  private readonly sensors: SimSensorState[];
  private readonly outputs = new Map<string, number>();
  private writes = 0;
  private readonly paced = { offered: 0, skipped: 0 };
  private pacer?: TimerHandle;

  constructor(
    private readonly config: SimDriverConfig,
    private readonly ctx: DriverContext,
  ) {
    this.sensors = config.sensors.map((c) => ({
      config: c,
      n: 0,
      prev: c.start,
      rnd: prng(config.seed ^ hashString(c.id)),
    }));
    for (const [k, v] of Object.entries(config.outputs)) this.outputs.set(k, v);
  }

  async start(): Promise<void> {
    if (this.config.pace) return this.startPaced(this.config.pace.rate, this.config.pace.tick);
    for (const s of this.sensors) {
      this.sample(s);
      s.timer = this.ctx.clock.setInterval(() => this.sample(s), s.config.interval);
    }
  }

  async stop(): Promise<void> {
    this.ctx.clock.clearInterval(this.pacer);
    this.pacer = undefined;
    for (const s of this.sensors) {
      this.ctx.clock.clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  async write(target: unknown, value: number | boolean): Promise<void> {
    const { output } = target as { output: string };
    this.outputs.set(output, Number(value));
    this.writes++;
  }

  output(name: string): number | undefined {
    return this.outputs.get(name);
  }

  health(): Record<string, unknown> {
    const paced = this.config.pace ? { paced: { rate: this.config.pace.rate, ...this.paced } } : {};
    return { sensors: this.sensors.length, outputs: Object.fromEntries(this.outputs), writes: this.writes, ...paced };
  }

  /**
   * Every tick, the readings due at `rate` since start that were not offered yet,
   * one sample per sensor in turn. At most 100 ms (or two ticks, if longer) of
   * readings at once: a loop that fell further behind skips the rest (counted)
   * rather than flooding the daemon to catch up.
   */
  private startPaced(rate: number, tick: number): void {
    if (this.sensors.length === 0) return;
    const started = this.ctx.clock.now();
    const most = Math.ceil((rate * Math.max(2 * tick, CATCH_UP_MS)) / 1000);
    let due = 0;
    let next = 0;
    this.pacer = this.ctx.clock.setInterval(() => {
      const total = Math.floor(((this.ctx.clock.now() - started) * rate) / 1000);
      let n = total - due;
      due = total;
      if (n > most) {
        this.paced.skipped += n - most;
        n = most;
      }
      for (let i = 0; i < n; i++) {
        this.sample(this.sensors[next]);
        next = next + 1 === this.sensors.length ? 0 : next + 1;
      }
      this.paced.offered += n;
    }, tick);
  }

  private sample(s: SimSensorState): void {
    const c = s.config;
    const heating = c.heater !== undefined && (this.outputs.get(c.heater) ?? 0) !== 0;
    const base = waveValue(c, s.n, s.prev, s.rnd, heating);
    s.prev = base;
    s.n++;
    // Draw every random number every sample so one option does not shift the others' sequence.
    const noise = (s.rnd() * 2 - 1) * c.noise;
    const spike = s.rnd() < c.spikeProbability;
    const drop = s.rnd() < c.dropoutProbability;
    const bad = s.rnd() < c.badProbability;
    if (drop) return;
    const value = base + noise + (spike ? c.spikeMagnitude : 0);
    this.ctx.emit(c.id, value, bad ? 'bad' : 'good');
  }
}
