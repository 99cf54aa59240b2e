/**
 * The GPIO hardware seam. Everything above it (debounce, counting, actuator
 * writes, the CLI) is backend-agnostic; a backend only opens lines.
 *
 * Backends: onoff over sysfs (./onoff-backend.ts), the gpiod command-line tools
 * over the character device (./gpiod-backend.ts), and a fake for tests (./fake.ts).
 *
 * Values at this seam are physical levels (0 = low, 1 = high); active-low
 * inversion happens above it so every backend behaves the same.
 */

export type Level = 0 | 1;

/** Called on every raw level change, in order, with the time of the edge (epoch ms). */
export type EdgeCallback = (value: Level, tsMs: number) => void;

export interface GpioLine {
  /** BCM number of the line. */
  readonly pin: number;
  read(): Promise<Level>;
  /** Output lines only. */
  write(value: Level): Promise<void>;
  /** Input lines only; raw edges, not debounced. One watcher per line. */
  watch(cb: EdgeCallback): void;
  unwatch(): void;
  /** Give the line back to the kernel. Idempotent. */
  release(): Promise<void>;
}

export type LineRequest =
  | {
      pin: number;
      direction: 'in';
      /** Read-only look (CLI): leave a line another process configured as it is, and do not unexport it on release. */
      observe?: boolean;
    }
  | { pin: number; direction: 'out'; /** Level driven as the line is claimed. */ initial: Level };

/** Opens lines on one GPIO chip. */
export interface GpioLineFactory {
  /** Short name for logs and health ("sysfs", "cdev", "fake"). */
  readonly name: string;
  open(req: LineRequest): Promise<GpioLine>;
  /** Release anything the factory holds itself (called after every line is released). */
  close?(): Promise<void>;
}
