import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PublishEvent } from '../arbiter/event';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { formatProblem } from '../config/yaml-source';
import type { RuleLoadResult, RuleSet } from './load';

/**
 * Hot reload of the rules directory. fs.watch gives quick notice; a poll of the
 * files' names, sizes and mtimes catches what fs.watch misses (network and
 * overlay filesystems, editors that rename). Changes are debounced, then the
 * whole directory is loaded: a valid set is swapped in atomically, an invalid
 * one is rejected as a whole — the previous set keeps running and the problems
 * are logged and published as a `rules.rejected` event.
 */
export interface RuleWatcherOptions {
  dir: string;
  clock: Clock;
  log: Logger;
  publishEvent: PublishEvent;
  /** Load and validate the directory (e.g. () => loadRuleSet(dir, ctx)). */
  load: () => RuleLoadResult;
  /** Swap a valid set in (e.g. set => engine.load(set)). */
  apply: (set: RuleSet) => void;
  debounceMs?: number;
  pollMs?: number;
  /** Use fs.watch besides polling (default true). */
  watch?: boolean;
}

export interface RuleWatcherStatus {
  loaded: number;
  lastReload?: number;
  lastReloadError?: string;
  rejected: number;
}

export class RuleWatcher {
  private watcher?: fs.FSWatcher;
  private pollTimer?: TimerHandle;
  private debounceTimer?: TimerHandle;
  private signature = '';
  private readonly log: Logger;
  private readonly state: RuleWatcherStatus = { loaded: 0, rejected: 0 };

  constructor(private readonly opts: RuleWatcherOptions) {
    this.log = opts.log.child({ component: 'rules' });
  }

  /** Load the directory once and start watching it. Returns the first load's result. */
  start(): RuleLoadResult {
    const res = this.reload();
    this.pollTimer = this.opts.clock.setInterval(() => this.poll(), this.opts.pollMs ?? 1000);
    if (this.opts.watch !== false) {
      try {
        this.watcher = fs.watch(this.opts.dir, () => this.schedule());
        this.watcher.on('error', (err) => {
          this.log.warn('watching the rules directory failed; polling only', { dir: this.opts.dir, err: errorMessage(err) });
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (err) {
        this.log.warn('cannot watch the rules directory; polling only', { dir: this.opts.dir, err: errorMessage(err) });
      }
    }
    return res;
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.opts.clock.clearInterval(this.pollTimer);
    this.opts.clock.clearTimeout(this.debounceTimer);
    this.pollTimer = undefined;
    this.debounceTimer = undefined;
  }

  status(): RuleWatcherStatus {
    return { ...this.state };
  }

  /** Load the directory now; swap the set in if it is valid. */
  reload(): RuleLoadResult {
    this.signature = this.currentSignature();
    const res = this.opts.load();
    const now = this.opts.clock.now();
    this.state.lastReload = now;
    if (res.ok) {
      this.opts.apply(res.set);
      this.state.loaded = res.rules.length;
      const wasRejected = this.state.lastReloadError !== undefined;
      this.state.lastReloadError = undefined;
      this.log.info('rules loaded', { dir: this.opts.dir, rules: res.rules.length, files: res.set.files.length });
      this.opts.publishEvent({
        ts: now,
        type: 'rules.loaded',
        severity: 'info',
        source: 'rules',
        message: `${res.rules.length} rule(s) loaded from ${this.opts.dir}${wasRejected ? ' (errors fixed)' : ''}`,
      });
    } else {
      const problems = res.problems.map(formatProblem);
      this.state.rejected++;
      this.state.lastReloadError = problems[0];
      this.log.error('rule set rejected; the previous rules keep running', { dir: this.opts.dir, problems });
      this.opts.publishEvent({
        ts: now,
        type: 'rules.rejected',
        severity: 'warning',
        source: 'rules',
        message: `rule set in ${this.opts.dir} rejected (${problems.length} error(s)); the previous rules keep running`,
        details: { problems },
      });
    }
    return res;
  }

  private schedule(): void {
    this.opts.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.opts.clock.setTimeout(() => {
      this.debounceTimer = undefined;
      if (this.currentSignature() !== this.signature) this.reload();
    }, this.opts.debounceMs ?? 300);
  }

  private poll(): void {
    if (!this.debounceTimer && this.currentSignature() !== this.signature) this.schedule();
  }

  /** Names, sizes and mtimes of the rule files: changes when any is added, edited or deleted. */
  private currentSignature(): string {
    try {
      return fs
        .readdirSync(this.opts.dir)
        .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
        .sort()
        .map((f) => {
          const st = fs.statSync(path.join(this.opts.dir, f), { throwIfNoEntry: false });
          return st ? `${f}:${st.size}:${st.mtimeMs}` : `${f}:gone`;
        })
        .join('|');
    } catch (err) {
      return `error:${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
    }
  }
}
