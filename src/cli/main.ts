import * as readline from 'node:readline';
import { EXIT, UsageError, type CliIO, type CommandModule } from './command';
import { configCommand } from './config';
import { runCommand } from './run';
import { statusCommand } from './status';
import { sensorsCommand } from './sensors';
import { watchCommand } from './watch';
import { readCommand } from './read';
import { actuateCommand } from './actuate';
import { bufferCommand } from './buffer';
import { zigbeeCommand } from './zigbee';
import { bleCommand } from './ble';
import { gpioCommand } from './gpio';
import { adcCommand } from './adc';
import { modbusCommand } from './modbus';
import { rulesCommand } from './rules';
import { failsafeCommand } from './failsafe';
import { alarmsCommand } from './alarms';
import { deployCommand } from './deploy';
import { VERSION } from '../core/version';
import { isJournalStream, JOURNAL_PRIORITY, prefixLines } from '../core/logger';

/**
 * The command table: one line per top-level command. Keep it written out so
 * `fieldgate --help` and the README list the same commands.
 */
const COMMANDS: Record<string, CommandModule> = {
  run: runCommand,
  config: configCommand,
  status: statusCommand,
  sensors: sensorsCommand,
  watch: watchCommand,
  read: readCommand,
  actuate: actuateCommand,
  buffer: bufferCommand,
  zigbee: zigbeeCommand,
  ble: bleCommand,
  gpio: gpioCommand,
  adc: adcCommand,
  modbus: modbusCommand,
  rules: rulesCommand,
  alarms: alarmsCommand,
  failsafe: failsafeCommand,
  deploy: deployCommand,
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    `fieldgate ${VERSION} — edge field-gateway daemon and field diagnostics`,
    '',
    'Usage: fieldgate COMMAND [ARGS] [--help]',
    '',
    'Commands:',
    ...lines,
    '',
    'Environment: FIELDGATE_CONFIG, FIELDGATE_RULES, FIELDGATE_STATE, FIELDGATE_SOCKET, FIELDGATE_LOG_LEVEL',
    'override the default paths (/etc/fieldgate/gateway.yaml, /etc/fieldgate/rules.d,',
    '/var/lib/fieldgate, /run/fieldgate/control.sock) and log level.',
    '',
  ].join('\n');
}

/** stderr for the CLI: under systemd (stderr is the journal) every line carries priority err. */
function stderrWriter(): (text: string) => void {
  const write = (t: string) => void process.stderr.write(t);
  return isJournalStream(2) ? prefixLines(JOURNAL_PRIORITY.error, write) : write;
}

/** Report an error nothing else caught (a bug, not a config mistake: those are FILE:LINE:COL lines). */
export function reportFatal(err: unknown): void {
  stderrWriter()(`fieldgate: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}

export function processIO(): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: stderrWriter(),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    confirm: async (question) => {
      if (!process.stdin.isTTY) return false;
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
      rl.close();
      return /^y(es)?$/i.test(answer.trim());
    },
  };
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.out(help());
    return cmd ? EXIT.OK : EXIT.USAGE;
  }
  if (cmd === '--version' || cmd === 'version') {
    io.out(`${VERSION}\n`);
    return EXIT.OK;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    io.err(`fieldgate: unknown command "${cmd}"; commands: ${Object.keys(COMMANDS).join(', ')}\n`);
    return EXIT.USAGE;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`fieldgate ${cmd}: ${err.message}\n\n${command.usage}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      reportFatal(err);
      process.exitCode = 1;
    },
  );
}
