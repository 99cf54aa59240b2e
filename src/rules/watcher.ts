import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PublishEvent } from '../arbiter/event';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { formatProblem } from '../config/yaml-source';
import type { RuleLoadResult, RuleSet } from './load';
import type { LastKnownGood } from './last-known-good';

/**
 * Hot reload of the rules directory. fs.watch (inotify) on the directory gives
 * notice of an edit, a new, renamed or deleted file, and of the directory itself
 * removed or renamed, at once; while the directory is missing (or is a symlink) a
 * second fs.watch on its parent sees it created again, renamed into place or
 * re-pointed to another release, after which the directory is watched anew.
 * A slow safety poll of the files' names, sizes and mtimes (every 10 s) catches
 * what inotify cannot see (network filesystems, an event lost to a full queue);
 * where fs.watch cannot be used at all the poll runs every second. Changes are
 * debounced (300 ms), then the whole directory is loaded: a valid set is swapped
 * in atomically (and kept as the last-known-good set), an invalid one is rejected
 * as a whole and the problems are logged and published as a `rules.rejected` event.
 *
 * What runs after a rejection, and what the messages say:
 *
 *   a set from the directory runs        → it keeps running ("the previous rules keep running")
 *   start-up, a last-known-good set      → that set runs (status unhealthy until fixed)
 *   start-up, no usable last-known-good  → no rules; onNoRules(true): every actuator at its failsafe
 */
export type RunningRules = 'rules-dir' | 'last-known-good' | 'none';
export interface RuleWatcherOptions {
  dir: string;
  clock: Clock;
  log: Logger;
  publishEvent: PublishEvent;
  /** Load and validate the directory (e.g. () => loadRuleSet(dir, ctx)). */
  load: () => RuleLoadResult;
  /** Swap a valid set in (e.g. set => engine.load(set)). */
  apply: (set: RuleSet) => void;
  /** Where accepted sets are kept, and the parser that re-validates a stored one. */
  lastKnownGood?: { store: LastKnownGood; parse: (texts: { file: string; text: string }[]) => RuleLoadResult };
  /** No rules can run (true) or rules run again (false): hold / release every actuator's failsafe. */
  onNoRules?: (none: boolean) => void;
  debounceMs?: number;
  /** Poll period where fs.watch is not used (watch: false) or cannot watch the directory (default 1 s). */
  pollMs?: number;
  /** Poll period while fs.watch watches the directory: the safety net for events it misses (default 10 s). */
  safetyPollMs?: number;
  /** Use fs.watch besides polling (default true). */
  watch?: boolean;
}

export interface RuleWatcherStatus {
  loaded: number;
  lastReload?: number;
  /** First problem of the rejected directory (FILE:LINE:COL: message); unset once a set is accepted. */
  lastReloadError?: string;
  /** Every problem of that rejection (at most 50). */
  problems?: string[];
  rejected: number;
  /** Which rules run: the directory's, the last-known-good copy, or none. */
  running: RunningRules;
  /** When the running set was accepted from the rules directory. */
  acceptedAt?: number;
  /** Since when it runs in this process. */
  since?: number;
}

export class RuleWatcher {
  /** fs.watch of the directory (its files) and of its parent (the directory's own name). */
  private dirWatcher?: fs.FSWatcher;
  private parentWatcher?: fs.FSWatcher;
  /** The directory the dirWatcher follows (dev:ino, '' while it does not exist); undefined before the first look. */
  private watchedId?: string;
  /** Paths fs.watch failed on, each logged once until it works again. */
  private readonly watchProblems = new Set<string>();
  private pollTimer?: TimerHandle;
  private pollEvery = 0;
  private stopped = false;
  private debounceTimer?: TimerHandle;
  private signature = '';
  private readonly log: Logger;
  private readonly state: RuleWatcherStatus = { loaded: 0, rejected: 0, running: 'none' };
  private started = false;
  /** onNoRules(true) was called and not yet undone. */
  private holdingFailsafes = false;

  constructor(private readonly opts: RuleWatcherOptions) {
    this.log = opts.log.child({ component: 'rules' });
  }

  /** Load the directory once and start watching it. Returns the first load's result. */
  start(): RuleLoadResult {
    // Watch first: a change made while the first set loads is then not missed.
    this.stopped = false;
    this.rewatch();
    const res = this.reload();
    this.armPoll();
    return res;
  }

  stop(): void {
    this.stopped = true; // a late fs.watch error must not open a watcher again
    this.dirWatcher?.close();
    this.parentWatcher?.close();
    this.dirWatcher = undefined;
    this.parentWatcher = undefined;
    this.opts.clock.clearInterval(this.pollTimer);
    this.opts.clock.clearTimeout(this.debounceTimer);
    this.pollTimer = undefined;
    this.debounceTimer = undefined;
  }

  status(): RuleWatcherStatus {
    return { ...this.state, problems: this.state.problems && [...this.state.problems] };
  }

  /** Load the directory now; swap the set in if it is valid. */
  reload(): RuleLoadResult {
    this.signature = this.currentSignature();
    const res = this.opts.load();
    const now = this.opts.clock.now();
    const first = !this.started;
    this.started = true;
    this.state.lastReload = now;
    if (res.ok) this.accept(res.set, res.rules.length, now);
    else if (first && this.noDirectoryYet(res)) {
      // A fresh install without a rules directory (and nothing accepted before): no rules, nothing to protect.
      this.log.warn('rules directory does not exist; running without rules (it is watched)', { dir: this.opts.dir });
      this.run('rules-dir', undefined, now, now);
    } else this.reject(res.problems.map(formatProblem), first, now);
    return res;
  }

  private accept(set: RuleSet, count: number, now: number): void {
    const wasRejected = this.state.lastReloadError !== undefined;
    this.run('rules-dir', set, now, now);
    this.state.lastReloadError = undefined;
    this.state.problems = undefined;
    this.opts.lastKnownGood?.store.save({ acceptedAt: now, dir: this.opts.dir, files: set.sources });
    if (this.holdingFailsafes) {
      this.holdingFailsafes = false;
      this.opts.onNoRules?.(false);
    }
    this.log.info('rules loaded', { dir: this.opts.dir, rules: count, files: set.files.length });
    this.opts.publishEvent({
      ts: now,
      type: 'rules.loaded',
      severity: 'info',
      source: 'rules',
      message: `${count} rule(s) loaded from ${this.opts.dir}${wasRejected ? ' (errors fixed)' : ''}`,
    });
  }

  private reject(problems: string[], first: boolean, now: number): void {
    this.state.rejected++;
    this.state.lastReloadError = problems[0];
    this.state.problems = problems.slice(0, 50);
    const what = `rule set in ${this.opts.dir} rejected${first ? ' at start-up' : ''} (${problems.length} error(s))`;
    if (first) this.fallBack(now);
    let outcome: string;
    if (this.state.running === 'rules-dir') outcome = 'the previous rules keep running';
    else if (this.state.running === 'last-known-good') {
      const at = new Date(this.state.acceptedAt ?? 0).toISOString();
      outcome = `${first ? 'running' : 'still running'} the last-known-good set accepted at ${at} (${this.state.loaded} rule(s))`;
    } else outcome = 'there is no valid last-known-good set: no rules run and every actuator is held at its failsafe value';
    this.log.error(`${what}; ${outcome}`, { dir: this.opts.dir, problems });
    this.opts.publishEvent({
      ts: now,
      type: 'rules.rejected',
      severity: this.state.running === 'rules-dir' ? 'warning' : 'critical',
      source: 'rules',
      message: `${what}; ${outcome}`,
      details: { problems: this.state.problems, running: this.state.running, acceptedAt: this.state.acceptedAt },
    });
  }

  /** Start-up with an invalid directory: the last-known-good set if it is valid for this config, else none. */
  private fallBack(now: number): void {
    const lkg = this.opts.lastKnownGood;
    const stored = lkg?.store.load();
    if (lkg && stored) {
      const res = lkg.parse(stored.files);
      if (res.ok) {
        this.run('last-known-good', res.set, stored.acceptedAt, now);
        return;
      }
      this.log.error('the last-known-good rule set is not valid for this config either', { file: lkg.store.file, problems: res.problems.map(formatProblem) });
    }
    this.state.running = 'none';
    this.state.loaded = 0;
    this.state.since = now;
    this.state.acceptedAt = undefined;
    this.holdingFailsafes = true;
    this.opts.onNoRules?.(true);
  }

  /** Run `set` (undefined: no rules, nothing to apply) and record which set runs since when. */
  private run(running: RunningRules, set: RuleSet | undefined, acceptedAt: number, now: number): void {
    if (set) this.opts.apply(set);
    this.state.since = now;
    this.state.running = running;
    this.state.acceptedAt = acceptedAt;
    this.state.loaded = set?.rules.length ?? 0;
  }

  private noDirectoryYet(res: Extract<RuleLoadResult, { ok: false }>): boolean {
    const missing = res.problems.length === 1 && /cannot read rules directory: ENOENT/.test(res.problems[0].message);
    return missing && !this.opts.lastKnownGood?.store.load();
  }

  private schedule(): void {
    this.opts.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.opts.clock.setTimeout(() => {
      this.debounceTimer = undefined;
      this.rewatch();
      if (this.currentSignature() !== this.signature) this.reload();
    }, this.opts.debounceMs ?? 300);
  }

  private poll(): void {
    this.rewatch();
    if (!this.debounceTimer && this.currentSignature() !== this.signature) this.schedule();
  }

  /** The poll's period: slow while fs.watch watches the directory (or its parent, for its creation), else fast. */
  private armPoll(): void {
    const dirExists = this.watchedId !== undefined && this.watchedId !== '';
    const watched = this.opts.watch !== false && (dirExists ? this.dirWatcher !== undefined : this.parentWatcher !== undefined);
    const every = watched ? (this.opts.safetyPollMs ?? 10_000) : (this.opts.pollMs ?? 1000);
    if (this.pollTimer !== undefined && every === this.pollEvery) return;
    this.opts.clock.clearInterval(this.pollTimer);
    this.pollEvery = every;
    this.pollTimer = this.opts.clock.setInterval(() => this.poll(), every);
  }

  /**
   * Watch the directory that is at `dir` now: after it was removed, created,
   * renamed or re-pointed (a symlink), the old inotify watch follows a directory
   * that is no longer there (or nothing), so it is replaced.
   */
  private rewatch(): void {
    if (this.opts.watch === false || this.stopped) return;
    const dir = this.opts.dir;
    const id = directoryId(dir);
    if (id !== this.watchedId || (id !== '' && !this.dirWatcher)) {
      this.dirWatcher?.close();
      this.dirWatcher = undefined;
      this.watchedId = id;
      if (id !== '') this.dirWatcher = this.openWatch(dir, () => this.schedule());
    }
    // The parent only while it matters: every write to a file beside the directory
    // (a database, a log) would wake the daemon. The directory's own watch sees it
    // removed or renamed; the parent sees it come back, or its symlink re-pointed.
    if (id === '' || isSymlink(dir)) {
      const base = path.basename(dir);
      this.parentWatcher ??= this.openWatch(path.dirname(dir), (name) => {
        if (name === null || name === base) this.schedule();
      });
    } else {
      this.parentWatcher?.close();
      this.parentWatcher = undefined;
    }
    if (this.pollTimer !== undefined) this.armPoll();
  }

  /** fs.watch `target`, or undefined (logged once) when it cannot be watched; a watcher that fails later is dropped and re-opened by the next rewatch(). */
  private openWatch(target: string, onEvent: (name: string | null) => void): fs.FSWatcher | undefined {
    try {
      const w = fs.watch(target, (_event, name) => onEvent(name));
      w.on('error', (err) => {
        w.close();
        if (this.dirWatcher === w) this.dirWatcher = undefined;
        if (this.parentWatcher === w) this.parentWatcher = undefined;
        this.noteWatchProblem(target, `watching ${target} failed: ${errorMessage(err)}`);
        // Poll every second now; each poll tries to watch again.
        if (!this.stopped && this.pollTimer !== undefined) this.armPoll();
      });
      this.watchProblems.delete(target);
      return w;
    } catch (err) {
      // The parent of a missing directory may be missing too: the poll covers that.
      this.noteWatchProblem(target, `cannot watch ${target}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  private noteWatchProblem(target: string, problem: string): void {
    if (this.watchProblems.has(target)) return;
    this.watchProblems.add(target);
    this.log.warn(`${problem}; changes are found by polling the rules directory`, { dir: this.opts.dir });
  }

  /**
   * The directory's identity and the names, sizes, mtimes and inodes of its rule
   * files: changes when any is added, edited, deleted or renamed over, and when
   * another directory takes its place (a release with the same file names).
   */
  private currentSignature(): string {
    try {
      const files = fs
        .readdirSync(this.opts.dir)
        .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
        .sort()
        .map((f) => {
          const st = fs.statSync(path.join(this.opts.dir, f), { throwIfNoEntry: false });
          return st ? `${f}:${st.size}:${st.mtimeMs}:${st.ino}` : `${f}:gone`;
        });
      return [directoryId(this.opts.dir), ...files].join('|');
    } catch (err) {
      return `error:${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`;
    }
  }
}

function isSymlink(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

/** Which directory is at `dir` now (dev:ino, following a symlink), '' when there is none. */
function directoryId(dir: string): string {
  const st = fs.statSync(dir, { throwIfNoEntry: false });
  return st?.isDirectory() ? `${st.dev}:${st.ino}` : '';
}
