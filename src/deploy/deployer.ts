import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PublishEvent } from '../arbiter/event';
import type { Clock, TimerHandle } from '../core/clock';
import { formatDuration } from '../core/duration';
import { writeFileAtomic } from '../core/atomic-file';
import type { Logger } from '../core/logger';
import { formatProblem } from '../config/yaml-source';
import { RequestRefused } from '../commands/requests';
import { MAX_RULE_FILE_BYTES, ruleFilesIn, type RuleLoadResult } from '../rules/load';
import { parseBundle, sha256Hex, verifyBundle, type Bundle } from './bundle';
import { DeployStore, type DeployRecord, type PendingConfirm } from './store';
import type { RequestResult } from '../commands/requests';

/** Rule files are written readable by the CLI's users (`fieldgate rules check`), like files an installer puts in /etc. */
const RULE_FILE_MODE = 0o644;

export interface DeployerOptions {
  rulesDir: string;
  stateDir: string;
  keysDir: string;
  allowUnsigned: boolean;
  keep: number;
  confirmWindow: number;
  clock: Clock;
  log: Logger;
  publishEvent: PublishEvent;
  /** Validate rule texts against this gateway's sensors and actuators (no I/O). */
  validate: (texts: { file: string; text: string }[]) => RuleLoadResult;
  /** Load the rules directory now through the hot-reload path and swap the set in (RuleWatcher.reload). */
  reload: () => RuleLoadResult;
  /** Why the gateway may not confirm a deploy now (not online, health failed), or undefined when it may. */
  notConfirmable: () => string | undefined;
  /** A deploy's final outcome (confirmed or rolled back), on req/deploy/result with the deploy's id. */
  publishFinal: (r: RequestResult) => void;
  /** Config deploys: the config file, its validation, and a controlled restart (the process exits with EXIT_RESTART). */
  config?: {
    file: string;
    /** The text this process loaded. */
    text: string;
    gatewayId: string;
    /** Problems as FILE:LINE:COL, or the new config's gateway id. */
    check: (text: string) => { ok: true; gatewayId: string } | { ok: false; problems: string[] };
    restart: (why: string) => void;
  };
}

/** How long after a config deploy's answer the process stops, so the answer can still go out. */
const RESTART_DELAY_MS = 500;

/** What differs between the rules that run and the deployed version: an engineer's edit on disk. */
export interface Drift {
  changed: string[];
  added: string[];
  removed: string[];
}

/**
 * Where the running rules come from, for status and the heartbeat:
 * `local` (no deploy yet: files put there on site), `deploy` (exactly the
 * deployed version's files) or `local-edit` (a deploy, then edited on disk: the
 * edit runs until the next deploy, which says it replaced it).
 */
export interface RulesProvenance {
  source: 'local' | 'deploy' | 'local-edit';
  /** The deployed version (also while a local edit runs over it). */
  version?: number;
  label?: string;
  /** sha256 of the running set's manifest: "rules NAME SHA256\n" per file, sorted by name. */
  hash: string;
  drift?: Drift;
}

type Manifest = Map<string, string>;

export interface DeployAnswer {
  version: number;
  label: string;
  key: string;
  applied: true;
  /** "pending" until confirmed (then a final result says "confirmed" or "rolled-back"). */
  state: 'pending';
  confirm: 'manual' | 'auto';
  confirmBy: number;
  rules: number;
  files: string[];
  /** Files of the rules directory the bundle did not name, removed. */
  removed: string[];
  /** A config deploy: the process restarts with the new config (exit code EXIT_RESTART). */
  restart?: true;
  /** The local edit this deploy replaced, if one ran. */
  replacedLocalEdit?: Drift;
}

/**
 * `req/deploy` for rule sets. In order, and nothing changes until every check passed:
 * shape and sha256 of every file → signature against the pinned keys (or the
 * explicit allowUnsigned) → version above the running deploy's → the same
 * validation `fieldgate rules check` does, problems as FILE:LINE:COL → the texts
 * kept in the state directory → each file written atomically into the rules
 * directory, the files the bundle does not name removed → the directory loaded
 * at once through the watcher (the answer says what the watcher accepted, not
 * what was asked for).
 */
export class Deployer {
  readonly store: DeployStore;
  private readonly log: Logger;
  /** The record a deploy under way is writing (what observe() compares with until current.json says so). */
  private pending?: DeployRecord;
  private running?: RulesProvenance;
  private confirmTimer?: TimerHandle;
  /** A config deploy was written in this process: it is confirmed by the next one, after the restart. */
  private restarting = false;

  /** sha256 of the config text this process runs (read once at start). */
  private readonly configHash?: string;

  constructor(private readonly opts: DeployerOptions) {
    this.log = opts.log.child({ component: 'deploy' });
    this.store = new DeployStore(opts.stateDir, opts.keep, this.log);
    if (opts.config) this.configHash = sha256Hex(opts.config.text);
  }

  current(): DeployRecord | undefined {
    return this.store.current();
  }

  provenance(): RulesProvenance | undefined {
    return this.running && { ...this.running };
  }

  /** Every set the watcher swaps in (RuleSet.sources): where it comes from, and drift reported when it starts. */
  observe(sources: readonly { file: string; text: string }[]): void {
    const running: Manifest = new Map(sources.map((s) => [path.basename(s.file), sha256Hex(s.text)]));
    const hash = sha256Hex(
      [...running]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([n, h]) => `rules ${n} ${h}\n`)
        .join(''),
    );
    let record: DeployRecord | undefined;
    try {
      record = this.pending ?? this.store.current();
    } catch {
      record = undefined; // logged by the store; the provenance then says local, which is what can be shown
    }
    if (!record) {
      this.running = { source: 'local', hash };
      return;
    }
    const drift = diff(new Map(record.files.map((f) => [f.name, f.sha256])), running);
    const was = this.running?.drift;
    this.running = { source: drift ? 'local-edit' : 'deploy', version: record.version, label: record.label, hash, ...(drift ? { drift } : {}) };
    if (drift && JSON.stringify(drift) !== JSON.stringify(was)) {
      const message = `the rules on disk differ from deployed version ${record.version} (${describe(drift)}): the local edit runs until the next deploy`;
      this.log.warn(message, { ...drift });
      this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.drift', severity: 'warning', source: 'deploy', message, details: { version: record.version, ...drift } });
    }
  }

  /** After a restart: a deploy still waiting for its confirmation keeps its deadline (rolled back at once if it passed). */
  start(): void {
    const p = this.store.pending();
    if (p) this.arm(p);
  }

  stop(): void {
    this.opts.clock.clearTimeout(this.confirmTimer);
    this.confirmTimer = undefined;
  }

  /** `req/deploy.confirm {version}`: the deploy waiting for confirmation stays. */
  confirm(version: unknown): { version: number; state: 'confirmed' } {
    const p = this.store.pending();
    if (!p) throw new Error('no deploy is waiting for confirmation');
    if (this.restarting) throw new Error(`config version ${p.version} is confirmed after the restart that applies it, not before`);
    if (version !== p.version) throw new Error(`version ${JSON.stringify(version)} is not the deploy waiting for confirmation (version ${p.version})`);
    const why = this.opts.notConfirmable();
    if (why) throw new Error(`version ${p.version} cannot be confirmed now: ${why}; it is rolled back at ${new Date(p.confirmBy).toISOString()} unless confirmed before`);
    return this.confirmed(p, 'req/deploy.confirm');
  }

  /** Called every second: an auto-confirm deploy is confirmed as soon as the gateway is healthy and online. */
  tick(): void {
    if (!this.confirmTimer || this.restarting) return;
    const p = this.store.pending();
    if (p?.mode === 'auto' && !this.opts.notConfirmable()) this.confirmed(p, 'auto (healthy and online)');
  }

  /**
   * Where the running config comes from: `deploy` (the file is the confirmed deployed
   * version), `pending` (deployed, waiting for its confirmation), `local` (no config
   * deploy, or the file was edited on site since); the sha256 of the text this process loaded.
   */
  configProvenance(): { source: 'local' | 'deploy' | 'pending'; version?: number; hash: string } | undefined {
    if (this.configHash === undefined) return undefined;
    const p = this.store.pending();
    if (p?.previousConfig !== undefined) return { source: 'pending', version: p.version, hash: this.configHash };
    const r = this.store.configRecord();
    return r && r.files[0]?.sha256 === this.configHash ? { source: 'deploy', version: r.version, hash: this.configHash } : { source: 'local', hash: this.configHash };
  }

  private confirmed(p: PendingConfirm, by: string): { version: number; state: 'confirmed' } {
    this.stop();
    this.store.setPending(undefined);
    if (p.previousConfig !== undefined) {
      const v = this.store.version(p.version);
      if (v) this.store.setConfigRecord({ version: v.version, label: v.label, key: v.key, appliedAt: v.appliedAt, files: v.files });
    }
    const message = `rules version ${p.version} confirmed (${by})`;
    this.log.info(message);
    this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.confirmed', severity: 'info', source: 'deploy', message, details: { version: p.version } });
    this.opts.publishFinal({ id: p.id, ok: true, result: { version: p.version, state: 'confirmed', by }, ts: this.opts.clock.now() });
    return { version: p.version, state: 'confirmed' };
  }

  private arm(p: PendingConfirm): void {
    this.stop();
    this.confirmTimer = this.opts.clock.setTimeout(() => this.rollBack(p), Math.max(0, p.confirmBy - this.opts.clock.now()));
  }

  /**
   * A config bundle: validated like `fieldgate config check`, the old text kept, the
   * file replaced atomically, then a controlled restart; the next process waits for
   * the confirmation and, without it, puts the old config back and restarts again.
   */
  private applyConfig(b: Bundle, config: { text: string; sha256: string }, key: string, id: string): DeployAnswer {
    const c = this.opts.config;
    if (!c) throw new Error('this daemon does not know its config file; config deploys are off');
    const checked = c.check(config.text);
    if (!checked.ok) {
      this.refused(b, `${checked.problems.length} error(s) in its config`);
      throw new RequestRefused(`bundle version ${b.version} rejected: ${checked.problems.length} error(s) in its config; nothing was changed`, checked.problems.slice(0, 50));
    }
    if (checked.gatewayId !== c.gatewayId) throw new Error(`the config names gateway "${checked.gatewayId}"; this is "${c.gatewayId}" (its topics would change and the cloud could not reach it)`);
    const now = this.opts.clock.now();
    const previousConfig = fs.readFileSync(c.file, 'utf8');
    const mode = fs.statSync(c.file).mode & 0o777;
    const record: DeployRecord = { version: b.version, label: b.label, key, appliedAt: now, files: [{ name: path.basename(c.file), sha256: config.sha256 }] };
    this.store.saveVersion({ ...record, rules: [], config });
    const windowMs = b.confirmWindowMs ?? this.opts.confirmWindow;
    const pending: PendingConfirm = { id, version: b.version, mode: b.confirm, windowMs, confirmBy: now + windowMs, previous: this.store.current(), previousFiles: [], previousConfig };
    this.store.setPending(pending);
    writeFileAtomic(c.file, config.text, mode);
    this.restarting = true;
    const what = `config version ${b.version}${b.label ? ` "${b.label}"` : ''} written to ${c.file}; restarting with it, then waiting ${formatDuration(windowMs)} for its confirmation (${b.confirm})`;
    this.log.info(what, { version: b.version, key });
    this.opts.publishEvent({ ts: now, type: 'deploy.applied', severity: 'info', source: 'deploy', message: what, details: { version: b.version, label: b.label, key, config: config.sha256 } });
    this.confirmTimer = this.opts.clock.setTimeout(() => c.restart(`config version ${b.version} deployed`), RESTART_DELAY_MS);
    return { version: b.version, label: b.label, key, applied: true, state: 'pending', confirm: b.confirm, confirmBy: pending.confirmBy, rules: 0, files: [path.basename(c.file)], removed: [], restart: true };
  }

  /**
   * On site (`fieldgate config rollback`): the deploy waiting for confirmation is
   * rolled back now; otherwise `version` (default: the kept version before the
   * running one) is put back as the running rule set. Versions stay spent.
   */
  rollBackNow(version?: number): { version: number; state: 'rolled-back'; to: number | string | null } {
    const p = this.store.pending();
    if (p && (version === undefined || version === p.version)) {
      this.stop();
      this.rollBack(p, 'was undone on site');
      return { version: p.version, state: 'rolled-back', to: p.previousConfig !== undefined ? 'previous config' : (p.previous?.version ?? null) };
    }
    if (p) throw new Error(`version ${p.version} is waiting for its confirmation; roll it back first (fieldgate config rollback)`);
    const running = this.store.current();
    const kept = this.store.versions().filter((n) => (this.store.version(n)?.rules.length ?? 0) > 0);
    const target = version ?? kept.find((n) => running === undefined || n < running.version);
    if (target === undefined) throw new Error(`no kept rule-set version to roll back to (kept: ${kept.join(', ') || 'none'})`);
    if (target === running?.version) throw new Error(`version ${target} is the one running`);
    const v = kept.includes(target) ? this.store.version(target) : undefined;
    if (!v) throw new Error(`rule-set version ${target} is not kept in ${this.store.dir} (kept: ${kept.join(', ') || 'none'})`);
    const record: DeployRecord = { version: v.version, label: v.label, key: v.key, appliedAt: v.appliedAt, files: v.files };
    this.writeSet(v.rules);
    this.store.setCurrent(record);
    const res = this.opts.reload();
    const loaded = res.ok ? `${res.rules.length} rule(s) run` : `but they did not load (${formatProblem(res.problems[0])}); the watcher keeps what ran`;
    const message = `rules rolled back on site from version ${running?.version ?? '(local files)'} to version ${target}; ${loaded}`;
    this.log.warn(message);
    this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.rolledback', severity: 'warning', source: 'deploy', message, details: { version: running?.version ?? null, to: target } });
    return { version: running?.version ?? 0, state: 'rolled-back', to: target };
  }

  /** The window passed unconfirmed (or a rollback on site): the previous files back, loaded through the watcher, and the outcome published. */
  private rollBack(p: PendingConfirm, why?: string): void {
    this.confirmTimer = undefined;
    if (p.previousConfig !== undefined && this.opts.config) {
      const c = this.opts.config;
      writeFileAtomic(c.file, p.previousConfig, fs.statSync(c.file).mode & 0o777);
      this.store.setPending(undefined);
      const message = `config version ${p.version} ${why ?? `was not confirmed within ${formatDuration(p.windowMs)}`}: the previous config is back in ${c.file}; restarting with it`;
      this.log.warn(message);
      this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.rolledback', severity: 'warning', source: 'deploy', message, details: { version: p.version } });
      this.opts.publishFinal({ id: p.id, ok: false, error: message, result: { version: p.version, state: 'rolled-back', to: 'previous config' }, ts: this.opts.clock.now() });
      c.restart(`config version ${p.version} rolled back`);
      return;
    }
    const to = p.previous ? `version ${p.previous.version}` : 'the local files that ran before';
    this.writeSet(p.previousFiles);
    this.store.setCurrent(p.previous);
    this.store.setPending(undefined);
    const res = this.opts.reload();
    const loaded = res.ok ? `${res.rules.length} rule(s) run` : `but they did not load (${formatProblem(res.problems[0])}); the watcher keeps what ran`;
    const message = `rules version ${p.version} ${why ?? `was not confirmed within ${formatDuration(p.windowMs)}`}: rolled back to ${to}; ${loaded}`;
    this.log.warn(message);
    this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.rolledback', severity: 'warning', source: 'deploy', message, details: { version: p.version, to: p.previous?.version ?? null } });
    this.opts.publishFinal({ id: p.id, ok: false, error: message, result: { version: p.version, state: 'rolled-back', to: p.previous?.version ?? null }, ts: this.opts.clock.now() });
  }

  deploy(params: Record<string, unknown>, id = ''): DeployAnswer {
    const bundle = parseBundle(params);
    const key = this.authenticate(bundle);
    const waiting = this.store.pending();
    if (waiting) throw new Error(`version ${waiting.version} is waiting for its confirmation (until ${new Date(waiting.confirmBy).toISOString()}); confirm it or let it roll back first`);
    this.checkWritable();
    const highest = this.store.highest();
    if (highest !== undefined && bundle.version <= highest)
      throw new Error(`version ${bundle.version} is not newer than version ${highest}, the newest deployed here; an older or replayed bundle is refused`);
    if (bundle.config) return this.applyConfig(bundle, bundle.config, key, id);
    const texts = bundle.rules.map((f) => ({ file: path.join(this.opts.rulesDir, f.name), text: f.text }));
    const checked = this.opts.validate(texts);
    if (!checked.ok) {
      const problems = checked.problems.map(formatProblem);
      this.refused(bundle, `${problems.length} error(s) in its rules`);
      throw new RequestRefused(`bundle version ${bundle.version} rejected: ${problems.length} error(s) in its rules; nothing was changed`, problems.slice(0, 50));
    }
    return this.apply(bundle, key, id);
  }

  private authenticate(b: Bundle): string {
    if (b.signature === undefined) {
      if (!this.opts.allowUnsigned) throw new Error(`bundle is not signed; this gateway takes only bundles signed by a key pinned in ${this.opts.keysDir} (deploy.allowUnsigned is false)`);
      return 'unsigned';
    }
    // A signature that is present is always checked, even where unsigned bundles are allowed.
    try {
      return verifyBundle(b, this.opts.keysDir);
    } catch (err) {
      this.refused(b, (err as Error).message);
      throw err;
    }
  }

  private apply(b: Bundle, key: string, id: string): DeployAnswer {
    const now = this.opts.clock.now();
    const record: DeployRecord = { version: b.version, label: b.label, key, appliedAt: now, files: b.rules.map((f) => ({ name: f.name, sha256: f.sha256 })) };
    const previous = this.store.current();
    const previousFiles = this.readSet();
    this.store.saveVersion({ ...record, rules: b.rules });
    const replaced = this.running?.drift;
    const removed = this.writeSet(b.rules);
    this.pending = record;
    let res: RuleLoadResult;
    try {
      res = this.opts.reload();
    } finally {
      this.pending = undefined;
    }
    if (!res.ok) {
      // Validated a moment ago: only the disk can make this happen. Say so; the watcher has kept what ran.
      const problems = res.problems.map(formatProblem);
      this.refused(b, `the rules directory did not load after writing: ${problems[0]}`);
      throw new RequestRefused(`bundle version ${b.version} was written to ${this.opts.rulesDir} but the directory did not load (${problems.length} error(s)); the previous rules keep running`, problems.slice(0, 50));
    }
    this.store.setCurrent(record);
    const windowMs = b.confirmWindowMs ?? this.opts.confirmWindow;
    const pending: PendingConfirm = { id, version: b.version, mode: b.confirm, windowMs, confirmBy: now + windowMs, previous, previousFiles };
    this.store.setPending(pending);
    this.arm(pending);
    const what =
      `rules version ${b.version}${b.label ? ` "${b.label}"` : ''} deployed: ${res.rules.length} rule(s) in ${b.rules.length} file(s)` +
      (removed.length ? `, removed ${removed.join(', ')}` : '') +
      (replaced ? `; replaced a local edit (${describe(replaced)})` : '') +
      `; waiting ${formatDuration(windowMs)} for its confirmation (${b.confirm})`;
    this.log.info(what, { version: b.version, key });
    this.opts.publishEvent({ ts: now, type: 'deploy.applied', severity: 'info', source: 'deploy', message: what, details: { version: b.version, label: b.label, key, files: record.files, removed, replacedLocalEdit: replaced } });
    return { version: b.version, label: b.label, key, applied: true, state: 'pending', confirm: b.confirm, confirmBy: pending.confirmBy, rules: res.rules.length, files: b.rules.map((f) => f.name), removed, ...(replaced ? { replacedLocalEdit: replaced } : {}) };
  }

  /** Refuse before anything is kept or written when the rules directory cannot be written (a read-only unit, root-owned 0755). */
  private checkWritable(): void {
    try {
      fs.accessSync(this.opts.rulesDir, fs.constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // created on apply (a fresh install without a rules directory)
      throw new Error(
        `the daemon cannot write the rules directory ${this.opts.rulesDir} (${code ?? String(err)}); nothing was changed. ` +
          'Give the service write access to it (docs/operations.md, "Remote deployment")',
      );
    }
  }

  /** The rules directory's files now (each bounded like the loader bounds them). */
  private readSet(): { name: string; text: string }[] {
    let files: string[];
    try {
      files = ruleFilesIn(this.opts.rulesDir);
    } catch {
      return [];
    }
    return files.filter((f) => fs.statSync(f).size <= MAX_RULE_FILE_BYTES).map((f) => ({ name: path.basename(f), text: fs.readFileSync(f, 'utf8') }));
  }

  /** Make the rules directory hold exactly `files`: each written atomically, the others removed. Returns the removed names. */
  private writeSet(files: readonly { name: string; text: string }[]): string[] {
    fs.mkdirSync(this.opts.rulesDir, { recursive: true });
    const names = new Set(files.map((f) => f.name));
    const removed = ruleFilesIn(this.opts.rulesDir)
      .map((f) => path.basename(f))
      .filter((f) => !names.has(f));
    for (const f of files) writeFileAtomic(path.join(this.opts.rulesDir, f.name), f.text, RULE_FILE_MODE);
    for (const f of removed) fs.rmSync(path.join(this.opts.rulesDir, f), { force: true });
    return removed;
  }

  private refused(b: Bundle, why: string): void {
    const message = `deploy of rules version ${b.version} refused: ${why}`;
    this.log.warn(message, { version: b.version });
    this.opts.publishEvent({ ts: this.opts.clock.now(), type: 'deploy.rejected', severity: 'warning', source: 'deploy', message, details: { version: b.version, label: b.label } });
  }
}

/** What `running` changed against `deployed`, or undefined when they are the same files. */
function diff(deployed: Manifest, running: Manifest): Drift | undefined {
  const changed = [...running].filter(([n, h]) => deployed.has(n) && deployed.get(n) !== h).map(([n]) => n);
  const added = [...running.keys()].filter((n) => !deployed.has(n));
  const removed = [...deployed.keys()].filter((n) => !running.has(n));
  return changed.length + added.length + removed.length > 0 ? { changed, added, removed } : undefined;
}

function describe(d: Drift): string {
  return [d.changed.length && `changed ${d.changed.join(', ')}`, d.added.length && `added ${d.added.join(', ')}`, d.removed.length && `removed ${d.removed.join(', ')}`].filter(Boolean).join('; ');
}
