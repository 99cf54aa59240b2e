import * as path from 'node:path';
import type { CliIO } from '../cli/command';
import { EXIT } from '../cli/command';
import { systemClock } from '../core/clock';
import { createLogger, errorMessage, isJournalStream, type LogLevel } from '../core/logger';
import { VERSION } from '../core/version';
import { LogRing } from '../core/log-ring';
import { loadConfigFile } from '../config/load';
import type { GatewayConfig } from '../config/schema';
import { formatProblem } from '../config/yaml-source';
import { ControlServer } from '../control/server';
import { Daemon } from './daemon';
import { createNotifier } from './sd-notify';

export interface RunOptions {
  configFile: string;
  rulesDir?: string;
  stateDir?: string;
  socketPath?: string;
  logLevel?: LogLevel;
}

export const DEFAULT_PATHS = {
  config: '/etc/fieldgate/gateway.yaml',
  rules: '/etc/fieldgate/rules.d',
  state: '/var/lib/fieldgate',
  socket: '/run/fieldgate/control.sock',
} as const;

/**
 * The daemon's directories and socket: a flag (or its environment variable,
 * resolved by the caller) wins, then the config's key (relative to the config
 * file), then the default. `fieldgate run` and `fieldgate failsafe` share it.
 */
/**
 * The exit code of a controlled restart (a config deploy or its rollback):
 * EX_TEMPFAIL. The unit's Restart=on-failure starts the service again after
 * RestartSec; ExecStopPost's `fieldgate failsafe` writes the failsafes meanwhile.
 */
export const EXIT_RESTART = 75;

export function daemonPaths(
  opts: Pick<RunOptions, 'configFile' | 'stateDir' | 'rulesDir' | 'socketPath'>,
  config: GatewayConfig,
): { stateDir: string; rulesDir: string; socketPath: string } {
  const configDir = path.dirname(path.resolve(opts.configFile));
  const pick = (flag: string | undefined, fromConfig: string | undefined, fallback: string) =>
    flag ? path.resolve(flag) : fromConfig ? path.resolve(configDir, fromConfig) : fallback;
  return {
    stateDir: pick(opts.stateDir, config.gateway.stateDir, DEFAULT_PATHS.state),
    rulesDir: pick(opts.rulesDir, config.gateway.rulesDir, DEFAULT_PATHS.rules),
    socketPath: pick(opts.socketPath, config.control.socket, DEFAULT_PATHS.socket),
  };
}

/**
 * `fieldgate run`: validate the config before touching any hardware, start the
 * daemon, and stop it cleanly (bounded in time) on SIGTERM/SIGINT.
 */
export async function runDaemon(opts: RunOptions, io: CliIO): Promise<number> {
  const res = loadConfigFile(opts.configFile);
  if (!res.ok) {
    for (const p of res.problems) io.err(formatProblem(p) + '\n');
    io.err(`fieldgate: ${res.problems.length} error(s) in ${opts.configFile}; not starting\n`);
    return EXIT.FAIL;
  }
  const config = res.value.config;
  const logRing = new LogRing();
  const log = createLogger(
    { level: opts.logLevel ?? config.gateway.logLevel, journalPriority: isJournalStream(1, io.env), keep: logRing },
    { gw: config.gateway.id },
  );
  const { stateDir, rulesDir, socketPath } = daemonPaths(opts, config);

  // A fault that escapes to the process (an uncaught exception, an unhandled
  // rejection) leaves it in an unknown state: never run on. Stop as on SIGTERM —
  // failsafe values, outbox flushed, `offline` — and exit 1 so systemd restarts a
  // clean process. A second fault while stopping exits at once (ExecStopPost's
  // `fieldgate failsafe` then writes the failsafes).
  let daemon: Daemon | undefined;
  let requestStop: (why: string) => void = () => undefined;
  const stopRequested = new Promise<string>((resolveStop) => (requestStop = resolveStop));
  let faulted = false;
  let restartRequested = false;
  const onFault = (kind: string) => (err: unknown) => {
    const fields = { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined };
    if (faulted) {
      log.error(`${kind} while stopping after a fault; exiting now`, fields);
      process.exit(EXIT.FAIL);
    }
    faulted = true;
    log.error(`${kind}: the process is in an unknown state; applying failsafe values, flushing the outbox and publishing offline, then exiting 1 (systemd restarts it)`, fields);
    daemon?.gateway.errors.add('process', errorMessage(err));
    requestStop(kind);
  };
  process.on('uncaughtException', onFault('uncaught exception'));
  process.on('unhandledRejection', onFault('unhandled rejection'));
  process.once('SIGTERM', () => requestStop('SIGTERM'));
  process.once('SIGINT', () => requestStop('SIGINT'));

  log.info('starting fieldgate', { version: VERSION, config: path.resolve(opts.configFile), stateDir, rulesDir, socket: socketPath, pid: process.pid });
  try {
    const requestRestart = (why: string) => {
      restartRequested = true;
      requestStop(why);
    };
    daemon = new Daemon({ loaded: res.value, stateDir, rulesDir, clock: systemClock, log, logRing, configFile: path.resolve(opts.configFile), requestRestart });
  } catch (err) {
    log.error('cannot start', { error: errorMessage(err) });
    io.err(`fieldgate: cannot start: ${errorMessage(err)}\n`);
    return EXIT.FAIL;
  }
  const control = new ControlServer({ socketPath, group: config.control.group, view: daemon, log: log.child({ component: 'control' }) });
  await daemon.start();
  try {
    await control.start();
  } catch (err) {
    // The CLI is a convenience; the gateway keeps running without it.
    log.error('control socket unavailable', { socket: socketPath, error: errorMessage(err) });
    daemon.gateway.errors.add('control', errorMessage(err));
  }
  log.info('fieldgate running', { drivers: config.drivers.length, sensors: res.value.sensors.length });
  // READY=1 only now that drivers and uplink are started; WATCHDOG=1 from an
  // event-loop timer from here on, so a hung loop gets the service restarted.
  const notifier = createNotifier({ env: process.env, clock: systemClock, log: log.child({ component: 'sd-notify' }) });
  notifier.ready(`running: ${config.drivers.length} driver(s), ${res.value.sensors.length} sensor(s)`);
  notifier.startWatchdog();

  const why = await stopRequested;
  log.info('stopping', { why });
  notifier.stopping();
  const d = daemon;
  const timeout = config.gateway.shutdownTimeout;
  const stopped = await Promise.race([
    (async () => {
      await control.stop().catch((err: unknown) => log.warn('control socket stop failed', { error: errorMessage(err) }));
      await d.stop();
      return true;
    })(),
    new Promise<false>((r) => setTimeout(() => r(false), timeout).unref()),
  ]);
  if (!stopped) log.error('clean shutdown timed out; exiting anyway', { timeoutMs: timeout });
  else log.info(faulted ? 'stopped after a fault; exiting 1' : restartRequested ? `stopped for a restart; exiting ${EXIT_RESTART} (systemd starts it again)` : 'stopped');
  notifier.stop();
  const code = stopped && !faulted ? (restartRequested ? EXIT_RESTART : EXIT.OK) : EXIT.FAIL;
  // Exit explicitly: a library handle left open must not keep a stopped daemon alive.
  setImmediate(() => process.exit(code));
  return code;
}
