import * as fs from 'node:fs';
import type { TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import type { Driver, DriverContext } from '../driver';
import { classifyGpioError, openGpioBackend } from './backend';
import { PulseCounter } from './counter';
import { Debouncer } from './debounce';
import type { GpioLine, GpioLineFactory, Level } from './line';
import { gpioCounterSchema, gpioTargetSchema, type GpioDriverConfig, type GpioEdge, type GpioInputConfig } from './schema';
import { TotalStore } from './total-store';

/** Construction-time collaborators; tests and the CLI inject a fake line factory here. */
export interface GpioDriverOptions {
  /** Use these lines instead of detecting and opening a hardware backend. */
  lineFactory?: GpioLineFactory;
  /** Where gpiochip character devices live (default /dev). */
  devDir?: string;
  /** Directory of the gpiod tools (default: PATH). */
  toolsDir?: string;
}

interface InputState {
  config: GpioInputConfig;
  edge: GpioEdge;
  debouncer: Debouncer;
  counter?: PulseCounter;
  line?: GpioLine;
  timer?: TimerHandle;
}

interface OutputState {
  activeLow: boolean;
  line: Promise<GpioLine>;
  level?: Level;
}

/**
 * GPIO driver: debounced inputs (level readings or pulse counters with rate and
 * persisted total) and outputs for actuators. Hardware is reached only through
 * a GpioLineFactory (onoff/sysfs, gpiod tools/cdev, or a fake).
 *
 *   line edge ──► Debouncer ──► edge filter ──► state: emit level
 *                                          └──► counter: pulse ─(window timer)─► rate, total
 */
export class GpioDriver implements Driver {
  private readonly inputs: InputState[];
  private readonly outputs = new Map<number, OutputState>();
  private readonly store: TotalStore;
  private factory: GpioLineFactory | undefined;
  private persistTimer: TimerHandle | undefined;
  private savedTotals: Record<string, number> = {};
  private writes = 0;

  constructor(
    private readonly config: GpioDriverConfig,
    private readonly ctx: DriverContext,
    private readonly opts: GpioDriverOptions = {},
  ) {
    this.store = new TotalStore(ctx.stateDir);
    this.inputs = config.inputs.map((c) => {
      const s: InputState = {
        config: c,
        edge: c.edge ?? (c.mode === 'counter' ? 'rising' : 'both'),
        debouncer: new Debouncer(ctx.clock, c.debounce, (v, ts) => this.onChange(s, v, ts)),
      };
      return s;
    });
  }

  async start(): Promise<void> {
    try {
      this.factory =
        this.opts.lineFactory ??
        (await openGpioBackend(this.config, {
          devDir: this.opts.devDir,
          toolsDir: this.opts.toolsDir,
          now: () => this.ctx.clock.now(),
          onError: (err, pin) => this.ctx.reportError(err, this.config.inputs.find((i) => i.pin === pin)?.id),
        }));
      const counters = this.inputs.filter((s) => s.config.mode === 'counter');
      if (counters.length > 0) this.savedTotals = this.loadTotals();
      for (const s of this.inputs) await this.startInput(s);
      if (counters.length > 0) {
        this.persistTimer = this.ctx.clock.setInterval(() => this.persistTotals(), this.config.statePersistInterval);
      }
      this.ctx.log.info('gpio started', { backend: this.factory.name, inputs: this.inputs.length });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.ctx.clock.clearInterval(this.persistTimer);
    this.persistTimer = undefined;
    for (const s of this.inputs) {
      this.ctx.clock.clearInterval(s.timer);
      s.timer = undefined;
      s.debouncer.dispose();
      const line = s.line;
      s.line = undefined;
      if (line) await this.releaseLine(line);
    }
    this.persistTotals();
    for (const out of this.outputs.values()) {
      const line = await out.line.catch(() => undefined); // a failed open was already reported by write()
      if (line) await this.releaseLine(line);
    }
    this.outputs.clear();
    await this.factory?.close?.();
    this.factory = undefined;
  }

  async write(target: unknown, value: number | boolean): Promise<void> {
    const t = gpioTargetSchema.parse(target);
    const input = this.config.inputs.find((i) => i.pin === t.pin);
    if (input) throw new Error(`GPIO pin ${t.pin} is configured as input "${input.id}" and cannot be written`);
    if (!this.factory) throw new Error('GPIO driver is not started');
    const on = typeof value === 'boolean' ? value : value !== 0;
    const level: Level = on !== t.activeLow ? 1 : 0;
    let out = this.outputs.get(t.pin);
    if (!out) {
      const factory = this.factory;
      out = { activeLow: t.activeLow, line: factory.open({ pin: t.pin, direction: 'out', initial: level }) };
      this.outputs.set(t.pin, out);
      try {
        await out.line;
      } catch (err) {
        this.outputs.delete(t.pin);
        throw classifyGpioError(err, `claiming output pin ${t.pin}`);
      }
    } else {
      await (await out.line).write(level);
    }
    out.level = level;
    this.writes++;
  }

  health(): Record<string, unknown> {
    const inputs: Record<string, unknown> = {};
    for (const s of this.inputs) {
      inputs[s.config.id] = {
        pin: s.config.pin,
        level: s.debouncer.level,
        edges: s.debouncer.edges,
        bounces: s.debouncer.bounces,
        ...(s.counter ? { pulses: s.counter.pulses, total: s.counter.total } : {}),
      };
    }
    const outputs = Object.fromEntries([...this.outputs].map(([pin, o]) => [pin, o.level]));
    return { backend: this.factory?.name, inputs, outputs, writes: this.writes };
  }

  private async startInput(s: InputState): Promise<void> {
    const c = s.config;
    const factory = this.factory!;
    try {
      s.line = await factory.open({ pin: c.pin, direction: 'in' });
    } catch (err) {
      throw classifyGpioError(err, `claiming input pin ${c.pin} ("${c.id}")`);
    }
    s.debouncer.prime(this.logical(c, await s.line.read()));
    s.line.watch((raw, ts) => s.debouncer.edge(this.logical(c, raw), ts));
    if (c.mode === 'state') {
      this.ctx.emit(c.id, s.debouncer.level!);
      s.timer = this.ctx.clock.setInterval(() => this.ctx.emit(c.id, s.debouncer.level!), c.interval);
      return;
    }
    const cc = c.counter ?? gpioCounterSchema.parse({});
    s.counter = new PulseCounter(cc, this.savedTotals[c.id] ?? 0);
    if (cc.total) this.ctx.emit(cc.total.id, s.counter.total);
    s.timer = this.ctx.clock.setInterval(() => {
      this.ctx.emit(c.id, s.counter!.closeWindow(cc.rateWindow));
      if (cc.total) this.ctx.emit(cc.total.id, s.counter!.total);
    }, cc.rateWindow);
  }

  private onChange(s: InputState, value: Level, ts: number): void {
    if (s.edge === 'rising' && value !== 1) return;
    if (s.edge === 'falling' && value !== 0) return;
    if (s.counter) s.counter.pulse();
    else this.ctx.emit(s.config.id, value, 'good', ts);
  }

  private logical(c: GpioInputConfig, raw: Level): Level {
    return c.activeLow ? ((1 - raw) as Level) : raw;
  }

  private async releaseLine(line: GpioLine): Promise<void> {
    try {
      line.unwatch();
      await line.release();
    } catch (err) {
      this.ctx.reportError(new Error(`releasing GPIO pin ${line.pin}: ${errorMessage(err)}`));
    }
  }

  private loadTotals(): Record<string, number> {
    try {
      return this.store.load();
    } catch (err) {
      // Keep counting from 0 rather than losing every reading; keep the bad file for inspection.
      const aside = `${this.store.file}.corrupt-${this.ctx.clock.now()}`;
      this.ctx.reportError(new Error(`pulse totals unreadable, restarting them from 0 (old file kept as ${aside}): ${errorMessage(err)}`));
      try {
        fs.renameSync(this.store.file, aside);
      } catch (e) {
        this.ctx.reportError(e);
      }
      return {};
    }
  }

  /** Write totals if any changed since the last write (throttled by the persist timer; also on stop). */
  private persistTotals(): void {
    const totals: Record<string, number> = { ...this.savedTotals };
    let changed = false;
    for (const s of this.inputs) {
      if (!s.counter) continue;
      if (totals[s.config.id] !== s.counter.total) changed = true;
      totals[s.config.id] = s.counter.total;
    }
    if (!changed) return;
    try {
      this.store.save(totals);
      this.savedTotals = totals;
    } catch (err) {
      this.ctx.reportError(new Error(`saving pulse totals to ${this.store.file}: ${errorMessage(err)}`));
    }
  }
}
