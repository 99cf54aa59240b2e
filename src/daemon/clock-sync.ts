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

  /** `now`: the wall clock, when the caller has just read it (one read per reading). */
  isSynced(now = this.clock.now()): boolean {
    if (this.mode === 'assume') return true;
    if (now - this.checkedAt < RECHECK_MS && now >= this.checkedAt) return this.synced;
    this.checkedAt = now;
    this.synced = this.probe(now);
    return this.synced;
  }

  private probe(now: number): boolean {
    if (now < PLAUSIBLE_AFTER) return false;
    const dir = path.join(this.root, 'run/systemd/timesync');
    if (!fs.existsSync(dir)) return true;
    return fs.existsSync(path.join(dir, 'synchronized'));
  }
}
