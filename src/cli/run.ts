import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CommandModule } from './command';
import { runDaemon } from '../daemon/run';
import { LOG_LEVELS, type LogLevel } from '../core/logger';

const usage = `Usage: fieldgate run [--config FILE] [--rules DIR] [--state DIR] [--log-level LEVEL]

Runs the gateway daemon in the foreground until SIGTERM or SIGINT.

  --config FILE      gateway config (default $FIELDGATE_CONFIG or /etc/fieldgate/gateway.yaml)
  --rules DIR        rule files directory (default $FIELDGATE_RULES, gateway.rulesDir or /etc/fieldgate/rules.d)
  --state DIR        state directory: outbox, driver state (default $FIELDGATE_STATE, gateway.stateDir or /var/lib/fieldgate)
  --socket PATH      control socket (default $FIELDGATE_SOCKET, control.socket or /run/fieldgate/control.sock)
  --log-level LEVEL  ${LOG_LEVELS.join(', ')} (default $FIELDGATE_LOG_LEVEL or gateway.logLevel)

A fault that escapes to the process (uncaught exception, unhandled rejection)
stops it like SIGTERM — failsafe values written, outbox flushed, offline
published — and it exits 1, so systemd restarts a clean process.

Exit status: 0 after a clean stop, 1 when the config is invalid, after a fault,
or when a clean stop timed out, 75 after a clean stop for a controlled restart
(a config deploy or its rollback: start it again).`;

export const runCommand: CommandModule = {
  summary: 'run the gateway daemon (foreground; systemd runs this)',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    const { values, positionals } = parseCommandArgs(argv, {
      config: { type: 'string' },
      rules: { type: 'string' },
      state: { type: 'string' },
      socket: { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const level = values['log-level'] ?? io.env.FIELDGATE_LOG_LEVEL;
    if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
    }
    return runDaemon(
      {
        configFile: values.config ?? io.env.FIELDGATE_CONFIG ?? '/etc/fieldgate/gateway.yaml',
        rulesDir: values.rules ?? io.env.FIELDGATE_RULES,
        stateDir: values.state ?? io.env.FIELDGATE_STATE,
        socketPath: values.socket ?? io.env.FIELDGATE_SOCKET,
        logLevel: level as LogLevel | undefined,
      },
      io,
    );
  },
};
