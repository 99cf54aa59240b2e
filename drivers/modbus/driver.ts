import type { Driver, DriverContext } from '../driver';
import { DriverUnavailableError } from '../driver';
import { ModbusBus, type BusOptions } from './bus';
import { encodeValue } from './codec';
import { classifyError } from './errors';
import { interFrameDelayMs, modbusTargetSchema, type ModbusDriverConfig, type ModbusTarget } from './schema';
import { ModbusSerialTransport, type ModbusTransport } from './transport';

/**
 * The Modbus driver: one bus (a serial line or a TCP connection) and its devices.
 * Polling, coalescing, faults and reopening live in ModbusBus; this class adds
 * the Driver contract and actuator writes (with optional read-back).
 */
export class ModbusDriver implements Driver {
  private readonly bus: ModbusBus;
  private writes = 0;
  private verifyFailures = 0;

  constructor(
    private readonly config: ModbusDriverConfig,
    private readonly ctx: DriverContext,
    private readonly transport: ModbusTransport = new ModbusSerialTransport(config.bus),
    opts: BusOptions = {},
  ) {
    this.bus = new ModbusBus(config, transport, ctx, opts);
  }

  async start(): Promise<void> {
    try {
      await this.bus.start();
    } catch (err) {
      const e = classifyError(err);
      if (e.errno === 'EACCES') {
        throw new DriverUnavailableError(`cannot open ${this.transport.description}: permission denied`, 'add the fieldgate user to the dialout group');
      }
      throw e;
    }
  }

  stop(): Promise<void> {
    return this.bus.stop();
  }

  async write(target: unknown, value: number | boolean): Promise<void> {
    const t = modbusTargetSchema.parse(target);
    const device = this.config.devices.find((d) => d.name === t.device);
    if (!device) throw new Error(`modbus target: no device "${t.device}" on bus ${this.config.id}`);
    const words = targetWords(t, value);
    await this.bus.write(t.device, async () => {
      await this.transport.write(device.unit, t.register, t.address, words, { timeoutMs: device.timeout, multiple: t.multiple });
      if (!t.verify) return;
      await delay(this.ctx, interFrameDelayMs(this.config.bus));
      const back = await this.transport.read(device.unit, t.register, t.address, words.length, device.timeout);
      if (back.some((w, i) => w !== words[i])) {
        this.verifyFailures++;
        throw new Error(`modbus write to ${t.device} ${t.register} ${t.address} not confirmed: wrote [${words}], read back [${back}]`);
      }
    });
    this.writes++;
  }

  health(): Record<string, unknown> {
    return { ...this.bus.health(), writes: this.writes, verifyFailures: this.verifyFailures };
  }
}

/** The words (or 0/1 coil states) a target value becomes: raw = (value - offset) / scale. */
export function targetWords(t: ModbusTarget, value: number | boolean): number[] {
  if (t.register === 'coil') return [value ? 1 : 0];
  if (t.type === 'bool') return [value ? 1 : 0];
  const raw = (Number(value) - t.offset) / t.scale;
  const isFloat = t.type === 'float32' || t.type === 'float64';
  return encodeValue(isFloat ? raw : Math.round(raw), { type: t.type, order: t.order });
}

function delay(ctx: DriverContext, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => ctx.clock.setTimeout(resolve, ms));
}
