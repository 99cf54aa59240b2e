/**
 * Shared plumbing of the CLI commands that talk to the running daemon (status,
 * sensors, watch, read, actuate, buffer, zigbee, rules): the common flags
 * (--json, --socket PATH), and turning connection failures into clear messages
 * and exit codes. Also `rulesFromDaemon`, which `fieldgate rules` calls.
 */
import { parseArgs } from 'node:util';
import {
  ControlPermissionError,
  ControlReplyError,
  ControlTimeoutError,
  controlRequest,
  DaemonNotRunningError,
} from '../control/client';
import { DEFAULT_SOCKET_PATH } from '../control/protocol';
import type { RuleRow, StatusSnapshot } from '../daemon/view';
import { EXIT, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';
import { formatTime, table, type Colour } from './format';

export const COMMON_OPTIONS_USAGE = `  --json           machine-readable output (one JSON document)
  --socket PATH    control socket (default $FIELDGATE_SOCKET or ${DEFAULT_SOCKET_PATH})`;

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

export interface DaemonArgs {
  json: boolean;
  socketPath: string;
  positionals: string[];
  /** Values of the command's own options. */
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
}

/** Parses --json, --socket and the command's own options; wrong usage throws UsageError. */
export function parseDaemonArgs(argv: string[], io: CliIO, options: Record<string, OptionSpec> = {}): DaemonArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, json: { type: 'boolean' }, socket: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { json, socket, ...values } = parsed.values;
  return {
    json: json === true,
    socketPath: (socket as string | undefined) ?? io.env.FIELDGATE_SOCKET ?? DEFAULT_SOCKET_PATH,
    positionals: parsed.positionals,
    values,
  };
}

/**
 * Runs a command body that talks to the daemon; a daemon that is not running,
 * a refused connection, a timeout or an error reply becomes one line on stderr
 * and an exit code (NO_DAEMON, or FAIL).
 */
export async function withDaemon(command: string, io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof DaemonNotRunningError) {
      io.err(`${err.message}\n`);
      return EXIT.NO_DAEMON;
    }
    if (err instanceof ControlPermissionError || err instanceof ControlReplyError || err instanceof ControlTimeoutError) {
      io.err(`fieldgate ${command}: ${err.message}\n`);
      return EXIT.FAIL;
    }
    throw err;
  }
}

export interface DaemonCommandSpec {
  /** The command word, used in error messages. */
  name: string;
  summary: string;
  usage: string;
  /** The command's own options besides --json and --socket. */
  options?: Record<string, OptionSpec>;
  /** How many positional arguments it takes (default none) and what to say otherwise. */
  arity?: { min: number; max: number; message: string };
  /** The body: talks to the daemon; its connection errors become messages and exit codes. */
  run(args: DaemonArgs, io: CliIO): Promise<number>;
}

/**
 * A CLI command that talks to the running daemon: --help, the common flags, the
 * argument count and the "daemon not running" handling, so each command file
 * holds only its request and its rendering.
 */
export function daemonCommand(spec: DaemonCommandSpec): CommandModule {
  return {
    summary: spec.summary,
    usage: spec.usage,
    async run(argv, io) {
      if (wantsHelp(argv)) {
        io.out(spec.usage + '\n');
        return EXIT.OK;
      }
      const args = parseDaemonArgs(argv, io, spec.options);
      const n = args.positionals.length;
      const arity = spec.arity ?? { min: 0, max: 0, message: `unexpected argument "${args.positionals[0]}"` };
      if (n < arity.min || n > arity.max) throw new UsageError(arity.message);
      return withDaemon(spec.name, io, () => spec.run(args, io));
    },
  };
}

export function printJson(io: CliIO, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

const RULE_STATE_COLOUR: Record<RuleRow['state'], Colour | undefined> = {
  idle: undefined,
  pending: 'yellow',
  active: 'green',
  cooldown: 'dim',
};

export function renderRules(rows: RuleRow[], colour: boolean): string {
  if (rows.length === 0) return 'no rules loaded\n';
  return table(
    ['RULE', 'STATE', 'LAST FIRED', 'SAFETY', 'FILE'],
    rows.map((r) => [r.id, r.state, formatTime(r.lastFired), r.safety ? 'yes' : 'no', r.file]),
    { colour, rowColour: (i) => RULE_STATE_COLOUR[rows[i].state] },
  );
}

export const RULES_FROM_DAEMON_USAGE = `Usage: fieldgate rules [--json] [--socket PATH]

Says which rule set the running daemon runs — the rules directory's, the
last-known-good copy (the directory was rejected at start-up), or none (every
actuator held at its failsafe value) — since when, and what was rejected; then
lists the rules: state (idle, pending for-duration, active, cooldown), last
time each fired, whether it is a safety interlock. Exit status 0 when the rules
directory's set runs and nothing is rejected, 1 otherwise.

${COMMON_OPTIONS_USAGE}`;

/** `fieldgate rules` with no subcommand (called from src/cli/rules.ts). */
export async function rulesFromDaemon(argv: string[], io: CliIO): Promise<number> {
  const args = parseDaemonArgs(argv, io);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  return withDaemon('rules', io, async () => {
    const [rows, status] = await Promise.all([controlRequest(args.socketPath, 'rules'), controlRequest(args.socketPath, 'status')]);
    const set = (status as StatusSnapshot).rules;
    const running = set.running ?? 'rules-dir';
    const rejected = set.lastReloadError !== undefined;
    if (args.json) printJson(io, { running, dir: set.dir, acceptedAt: set.acceptedAt, since: set.since, rejected: rejected ? { at: set.lastReload, problems: set.problems ?? [set.lastReloadError] } : undefined, rules: rows });
    else io.out(renderRuleSet(set) + renderRules(rows as RuleRow[], io.isTTY));
    return running === 'rules-dir' && !rejected ? EXIT.OK : EXIT.FAIL;
  });
}

/** The lines above the rule table: which set runs, since when, and what was rejected. */
export function renderRuleSet(set: StatusSnapshot['rules']): string {
  const dir = set.dir ?? 'the rules directory';
  const accepted = `accepted ${formatTime(set.acceptedAt)}, running since ${formatTime(set.since)}`;
  const lines: string[] = [];
  if (set.running === 'last-known-good') {
    lines.push(`RUNNING THE LAST-KNOWN-GOOD SET (${set.loaded} rule(s) ${accepted}): the rule files in ${dir} were rejected at start-up`);
  } else if (set.running === 'none') {
    lines.push(`NO RULES RUNNING: every actuator is held at its failsafe value; the rule files in ${dir} were rejected and there is no valid last-known-good set`);
  } else lines.push(`rules from ${dir}: ${set.loaded} rule(s) ${accepted}`);
  if (set.lastReloadError !== undefined) {
    if (set.running === 'rules-dir' || set.running === undefined) lines.push(`REJECTED at ${formatTime(set.lastReload)} (the previous rules keep running):`);
    else lines.push(`rejected at ${formatTime(set.lastReload)}:`);
    for (const p of set.problems ?? [set.lastReloadError]) lines.push(`  ${p}`);
  }
  return lines.join('\n') + '\n';
}
