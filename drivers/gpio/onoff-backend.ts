import * as fs from 'node:fs';
import type { EdgeCallback, GpioLine, GpioLineFactory, Level, LineRequest } from './line';
import { bcmToSysfs, type ChipInfo } from './chip';

/**
 * sysfs backend on onoff (epoll edge interrupts). onoff always works on the
 * real /sys/class/gpio; the chip (and so the BCM → sysfs number base) is
 * detected beforehand from the configured sysfs root. onoff is imported only
 * when this backend is created, so machines without it never load it.
 * Edges carry the time the callback ran (sysfs gives no kernel timestamp).
 */
export async function createOnoffFactory(
  chip: ChipInfo,
  now: () => number,
  onError: (err: unknown, pin: number) => void,
): Promise<GpioLineFactory> {
  const { Gpio } = await import('onoff');
  return {
    name: 'sysfs',
    async open(req: LineRequest): Promise<GpioLine> {
      const n = bcmToSysfs(req.pin, chip);
      // Observing a line some other process exported (the daemon): do not turn its output into an input, nor unexport it.
      const keepExport = req.direction === 'in' && req.observe === true && fs.existsSync(`/sys/class/gpio/gpio${n}`);
      const gpio =
        req.direction === 'in'
          ? new Gpio(n, 'in', 'both', { reconfigureDirection: !keepExport })
          : new Gpio(n, req.initial === 1 ? 'high' : 'low');
      let released = false;
      let watcher: ((err: Error | null | undefined, value: Level) => void) | undefined;
      return {
        pin: req.pin,
        read: async () => (await gpio.read()) as Level,
        write: (v: Level) => gpio.write(v),
        watch(cb: EdgeCallback) {
          watcher = (err, value) => {
            if (err) onError(err, req.pin);
            else cb(value, now());
          };
          gpio.watch(watcher);
        },
        unwatch() {
          if (watcher) gpio.unwatch(watcher);
          watcher = undefined;
        },
        async release() {
          if (released) return;
          released = true;
          gpio.unwatchAll();
          if (!keepExport) gpio.unexport();
        },
      };
    },
  };
}
