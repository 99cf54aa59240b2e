import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The CLI command contract. Each top-level word (`run`, `config`, `modbus`, ...)
 * is one CommandModule in src/cli/main.ts's table. run() gets the arguments after
 * the command word and returns the process exit code; it writes through `io` so
 * tests capture output without spawning a process.
 */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal (colours, live views). */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Ask a yes/no question on the terminal; false when there is no terminal. */
  confirm(question: string): Promise<boolean>;
}

export interface CommandModule {
  /** One line for `fieldgate --help`. */
  summary: string;
  /** Full usage text for `fieldgate COMMAND --help`. */
  usage: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Exit codes shared by every command. */
export const EXIT = {
  OK: 0,
  /** Invalid input: config/rule errors, a failed check, unhealthy status. */
  FAIL: 1,
  /** Wrong usage: unknown flag, missing argument. */
  USAGE: 2,
  /** The daemon is not running (no control socket). */
  NO_DAEMON: 3,
  /** `fieldgate status`: the gateway's health is failed (a control function is lost). */
  HEALTH_FAILED: 4,
} as const;

export class UsageError extends Error {}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * node:util parseArgs, strict (unknown flags are errors), positionals allowed;
 * wrong usage becomes a UsageError so main() prints the command's usage.
 */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
