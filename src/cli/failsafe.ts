import { controlRequest } from '../control/client';
import { loadConfigFile } from '../config/load';
import { formatProblem } from '../config/yaml-source';
import { parseDuration } from '../core/duration';
import { createLogger, isJournalStream } from '../core/logger';
import { daemonPaths, DEFAULT_PATHS } from '../daemon/run';
import { writeFailsafes } from '../daemon/failsafe-writer';
import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CommandModule } from './command';

const usage = `Usage: fieldgate failsafe [--config FILE] [--state DIR] [--socket PATH] [--timeout 10s] [--always]

Writes every actuator's failsafe value through its driver (GPIO, Modbus, sim ...)
and logs each write, one JSON line per actuator. The daemon must not be running:
this is what systemd runs after the daemon ended (ExecStopPost in
fieldgate.service), so that an OOM abort, a kill -9 or a watchdog abort — which
skip the daemon's own failsafe writes — still leave every output safe.

Under systemd a clean stop (SERVICE_RESULT=success, EXIT_STATUS=0: the daemon
wrote its failsafes itself) is only logged; --always writes anyway. Actuators
without a failsafe value, or with failsafeOnShutdown: false, are left alone
(logged).

  --config FILE   gateway config (default $FIELDGATE_CONFIG or /etc/fieldgate/gateway.yaml)
  --state DIR     state directory (default $FIELDGATE_STATE, gateway.stateDir or /var/lib/fieldgate)
  --socket PATH   control socket, to refuse while the daemon runs (default $FIELDGATE_SOCKET, control.socket or /run/fieldgate/control.sock)
  --timeout DUR   longest wait for one driver to start or one write to finish (default 10s)
  --always        write even after a clean stop

Exit status: 0 every failsafe written (or nothing to do), 1 a write failed, the
config is invalid or the daemon is running (then nothing is written).`;

export const failsafeCommand: CommandModule = {
  summary: 'write every actuator\'s failsafe value with no daemon running (systemd ExecStopPost)',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    const { values, positionals } = parseCommandArgs(argv, {
      config: { type: 'string' },
      state: { type: 'string' },
      socket: { type: 'string' },
      timeout: { type: 'string' },
      always: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const timeoutMs = parseDuration(values.timeout ?? '10s');
    if (timeoutMs === undefined || timeoutMs <= 0) throw new UsageError('--timeout takes a duration such as "10s"');
    const configFile = values.config ?? io.env.FIELDGATE_CONFIG ?? DEFAULT_PATHS.config;
    const res = loadConfigFile(configFile);
    if (!res.ok) {
      for (const p of res.problems) io.err(formatProblem(p) + '\n');
      io.err(`fieldgate failsafe: ${res.problems.length} error(s) in ${configFile}; nothing written\n`);
      return EXIT.FAIL;
    }
    const config = res.value.config;
    const log = createLogger({ level: 'info', write: (l) => io.out(l), journalPriority: isJournalStream(1, io.env) }, { gw: config.gateway.id, component: 'failsafe' });
    const { stateDir, socketPath } = daemonPaths(
      { configFile, stateDir: values.state ?? io.env.FIELDGATE_STATE, socketPath: values.socket ?? io.env.FIELDGATE_SOCKET },
      config,
    );

    const env = io.env;
    if (!values.always && env.SERVICE_RESULT === 'success' && env.EXIT_CODE === 'exited' && env.EXIT_STATUS === '0') {
      log.info('clean stop: the daemon wrote its failsafe values itself; nothing to do', { serviceResult: env.SERVICE_RESULT });
      return EXIT.OK;
    }
    if (await controlRequest(socketPath, 'status', {}, 1000).then(() => true, () => false)) {
      io.err(`fieldgate failsafe: the daemon is running (it answers on ${socketPath}); stop it first — it writes its failsafes when it stops\n`);
      return EXIT.FAIL;
    }
    log.warn('writing every actuator\'s failsafe value', {
      why: env.SERVICE_RESULT ? `the service ended: ${env.SERVICE_RESULT} (${env.EXIT_CODE ?? '?'} ${env.EXIT_STATUS ?? '?'})` : 'run by hand',
      actuators: config.actuators.length,
    });
    const outcomes = await writeFailsafes(config, stateDir, log, timeoutMs);
    const failed = outcomes.filter((o) => o.outcome === 'failed').length;
    const written = outcomes.filter((o) => o.outcome === 'written').length;
    log.info('failsafe done', { written, failed, skipped: outcomes.length - written - failed });
    return failed > 0 ? EXIT.FAIL : EXIT.OK;
  },
};
