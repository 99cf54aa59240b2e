import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../core/clock';

/** Before this instant the clock cannot be right (the software did not exist yet). */
const PLAUSIBLE_AFTER = Date.UTC(2025, 0, 1);
const RECHECK_MS = 10_000;

/**
 * Tells whether the system clock is synchronised, so readings taken before NTP
 * sync (a Pi without RTC after a power cut boots at its last saved time) can be
 * flagged. With systemd-timesyncd the kernel's sync state is mirrored by the file
 * /run/systemd/timesync/synchronized; without timesyncd we can only rule out
 * clocks that are obviously wrong. The answer is cached for 10 s: this is asked
 * for every reading.
 */
export class ClockSyncProbe {
  private synced = true;
  private checkedAt = -Infinity;

  constructor(
    private readonly mode: 'auto' | 'assume',
    private readonly clock: Clock,
    private readonly root = '/',
  ) {}

  /**
   * `at`: a time the caller already holds that is close to now (the reading's sample
   * time, taken from this clock by the driver). While it falls within the cached
   * answer's 10 s the clock is not read at all (a Modbus answer of 20 values read it 20
   * times); one outside (an older sample, a clock that stepped) reads the clock.
   */
  isSynced(at?: number): boolean {
    if (this.mode === 'assume') return true;
    if (at !== undefined && this.fresh(at)) return this.synced;
    const now = this.clock.now();
    if (this.fresh(now)) return this.synced;
    this.checkedAt = now;
    this.synced = this.probe(now);
    return this.synced;
  }

  private fresh(t: number): boolean {
    return t - this.checkedAt < RECHECK_MS && t >= this.checkedAt;
  }

  private probe(now: number): boolean {
    if (now < PLAUSIBLE_AFTER) return false;
    const dir = path.join(this.root, 'run/systemd/timesync');
    if (!fs.existsSync(dir)) return true;
    return fs.existsSync(path.join(dir, 'synchronized'));
  }
}
