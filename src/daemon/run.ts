import * as path from 'node:path';
import type { CliIO } from '../cli/command';
import { EXIT } from '../cli/command';
import { systemClock } from '../core/clock';
import { createLogger, errorMessage, isJournalStream, type LogLevel } from '../core/logger';
import { VERSION } from '../core/version';
import { loadConfigFile } from '../config/load';
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
  const log = createLogger(
    { level: opts.logLevel ?? config.gateway.logLevel, journalPriority: isJournalStream(1, io.env) },
    { gw: config.gateway.id },
  );
  const configDir = path.dirname(path.resolve(opts.configFile));
  const resolve = (p: string | undefined, fallback: string) => (p ? path.resolve(configDir, p) : fallback);
  const stateDir = opts.stateDir ? path.resolve(opts.stateDir) : resolve(config.gateway.stateDir, DEFAULT_PATHS.state);
  const rulesDir = opts.rulesDir ? path.resolve(opts.rulesDir) : resolve(config.gateway.rulesDir, DEFAULT_PATHS.rules);
  const socketPath = opts.socketPath ? path.resolve(opts.socketPath) : resolve(config.control.socket, DEFAULT_PATHS.socket);

  const onFault = (kind: string) => (err: unknown) => {
    // Nothing crashes: a fault escaping a driver or library callback is logged and
    // counted; the watchdog restarts the process if the event loop is really stuck.
    log.error(`${kind} (kept running)`, { error: errorMessage(err), stack: err instanceof Error ? err.stack : undefined });
    daemon?.gateway.errors.add('process', errorMessage(err));
  };
  process.on('uncaughtException', onFault('uncaught exception'));
  process.on('unhandledRejection', onFault('unhandled rejection'));

  log.info('starting fieldgate', { version: VERSION, config: path.resolve(opts.configFile), stateDir, rulesDir, socket: socketPath, pid: process.pid });
  let daemon: Daemon | undefined;
  try {
    daemon = new Daemon({ loaded: res.value, stateDir, rulesDir, clock: systemClock, log });
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

  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  log.info('stopping', { signal });
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
  else log.info('stopped');
  notifier.stop();
  // Exit explicitly: a library handle left open must not keep a stopped daemon alive.
  setImmediate(() => process.exit(stopped ? EXIT.OK : EXIT.FAIL));
  return stopped ? EXIT.OK : EXIT.FAIL;
}
