import * as fs from 'node:fs';
import type { TimerHandle } from '../../src/core/clock';
import { errorMessage } from '../../src/core/logger';
import { DriverUnavailableError, type Driver, type DriverContext } from '../driver';
import { iioDevicesDir, readVoltageChannel, resolveIioDevice, sampleValue } from './iio';
import type { AdcChannelConfig, AdcDriverConfig } from './schema';

interface ChannelState {
  config: AdcChannelConfig;
  /** Resolved device directory; dropped after an error so the device is looked up again. */
  dir?: string;
  timer?: TimerHandle;
  reads: number;
  errors: number;
  lastError?: string;
}

/**
 * ADC driver over Linux IIO sysfs. Each channel polls on its own timer; a
 * failing channel emits a bad-quality reading and reports the error (naming
 * the file), and the other channels carry on. Recovery is logged once.
 */
export class AdcDriver implements Driver {
  private readonly channels: ChannelState[];

  constructor(
    private readonly config: AdcDriverConfig,
    private readonly ctx: DriverContext,
  ) {
    this.channels = config.channels.map((c) => ({ config: c, reads: 0, errors: 0 }));
  }

  async start(): Promise<void> {
    const devices = iioDevicesDir(this.config.sysfsRoot);
    if (!fs.existsSync(devices)) {
      throw new DriverUnavailableError(
        `ADC not available: no ${devices} — no IIO ADC driver loaded`,
        'enable the ADC in /boot/firmware/config.txt (e.g. dtoverlay=ads1015 or dtoverlay=mcp3008) and reboot',
      );
    }
    for (const s of this.channels) {
      this.poll(s);
      s.timer = this.ctx.clock.setInterval(() => this.poll(s), s.config.interval);
    }
  }

  async stop(): Promise<void> {
    for (const s of this.channels) {
      this.ctx.clock.clearInterval(s.timer);
      s.timer = undefined;
    }
  }

  health(): Record<string, unknown> {
    return Object.fromEntries(
      this.channels.map((s) => [s.config.id, { device: s.dir ?? s.config.device, channel: s.config.channel, reads: s.reads, errors: s.errors, lastError: s.lastError }]),
    );
  }

  private poll(s: ChannelState): void {
    const c = s.config;
    try {
      s.dir ??= resolveIioDevice(this.config.sysfsRoot, c.device);
      const sample = readVoltageChannel(s.dir, c.channel, c.samples);
      s.reads++;
      if (s.lastError !== undefined) {
        this.ctx.log.info('adc channel recovered', { sensor: c.id, after: s.lastError });
        s.lastError = undefined;
      }
      this.ctx.emit(c.id, sampleValue(sample, c.output));
    } catch (err) {
      s.dir = undefined;
      s.errors++;
      s.lastError = errorMessage(err);
      this.ctx.emit(c.id, Number.NaN, 'bad');
      this.ctx.reportError(err, c.id);
    }
  }
}
