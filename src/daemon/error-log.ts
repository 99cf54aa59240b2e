import type { Clock } from '../core/clock';

export interface ErrorEntry {
  ts: number;
  component: string;
  message: string;
}

/** The last N distinct errors of the daemon, for `fieldgate status` and the heartbeat. */
export class ErrorLog {
  private entries: ErrorEntry[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly keep: number,
  ) {}

  add(component: string, message: string): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.component === component && last.message === message) {
      last.ts = this.clock.now();
      return;
    }
    this.entries.push({ ts: this.clock.now(), component, message });
    if (this.entries.length > this.keep) this.entries.shift();
  }

  list(): ErrorEntry[] {
    return [...this.entries];
  }
}
