import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DriverUnavailableError } from '../../drivers/driver';
import { openGpioBackend } from '../../drivers/gpio/backend';
import { Debouncer } from '../../drivers/gpio/debounce';
import type { GpioLineFactory, Level } from '../../drivers/gpio/line';
import { pinOwner } from '../../drivers/gpio/owner';
import { GPIO_BACKENDS } from '../../drivers/gpio/schema';
import { loadConfigFile } from '../config/load';
import { formatProblem } from '../config/yaml-source';
import { systemClock, type Clock } from '../core/clock';
import { parseDuration } from '../core/duration';
import { errorMessage } from '../core/logger';
import { EXIT, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';

const usage = `Usage:
  fieldgate gpio read PIN               print the level of BCM pin PIN (0 or 1)
  fieldgate gpio watch PIN              print every edge with its time until Ctrl-C
  fieldgate gpio write PIN 0|1          drive PIN as an output

Options:
  --active-low          invert the level (1 = pin low)
  --debounce DURATION   watch: report a change only once stable this long (e.g. 20ms)
  --backend B           auto (default), sysfs or cdev
  --chip NAME           GPIO chip name or label (default: the Raspberry Pi header chip)
  --force               write: even if the running daemon owns PIN
  --config FILE         write: gateway config to check pin ownership against
                        (default $FIELDGATE_CONFIG or /etc/fieldgate/gateway.yaml)

PIN is a BCM GPIO number (GPIO17 → 17), not a header pin number. \`gpio write\`
refuses a pin that the running daemon (control socket $FIELDGATE_SOCKET or
/run/fieldgate/control.sock present) uses as an actuator or input.`;

export interface GpioCliOptions {
  /** Lines to use; default: detect and open the hardware backend (tests inject a FakeGpioChip). */
  openLines?: (sel: { sysfsRoot: string; backend: (typeof GPIO_BACKENDS)[number]; chip?: string }) => Promise<GpioLineFactory>;
  /** Resolves when `watch` should stop; default: on SIGINT or SIGTERM. */
  untilStopped?: () => Promise<void>;
  clock?: Clock;
}

/** `fieldgate gpio`, with injectable hardware for tests. */
export function createGpioCommand(opts: GpioCliOptions = {}): CommandModule {
  const clock = opts.clock ?? systemClock;
  return {
    summary: 'read, watch or write a GPIO pin (BCM numbering)',
    usage,
    async run(argv, io) {
      if (wantsHelp(argv)) {
        io.out(usage + '\n');
        return EXIT.OK;
      }
      const args = parse(argv);
      const [sub, pinText, valueText, ...extra] = args.positionals;
      if (!sub) throw new UsageError('missing subcommand: read, watch or write');
      if (!['read', 'watch', 'write'].includes(sub)) throw new UsageError(`unknown subcommand "${sub}"`);
      const pin = Number(pinText);
      if (pinText === undefined || !/^\d+$/.test(pinText) || pin > 63) throw new UsageError(`PIN must be a BCM GPIO number 0-63, got ${JSON.stringify(pinText ?? '')}`);
      if (extra.length > 0 || (sub !== 'write' && valueText !== undefined)) throw new UsageError('too many arguments');
      const backend = (args.values.backend ?? 'auto') as (typeof GPIO_BACKENDS)[number];
      if (!GPIO_BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${GPIO_BACKENDS.join(', ')}`);
      const activeLow = args.values['active-low'] === true;
      const toLogical = (v: Level): Level => (activeLow ? ((1 - v) as Level) : v);

      let value: Level | undefined;
      if (sub === 'write') {
        if (valueText !== '0' && valueText !== '1') throw new UsageError('write needs a value 0 or 1');
        value = valueText === '1' ? 1 : 0;
        const refusal = ownershipRefusal(pin, args.values.config, io);
        if (refusal && args.values.force !== true) {
          io.err(`fieldgate gpio: ${refusal}\n`);
          return EXIT.FAIL;
        }
      }
      let debounceMs = 0;
      if (args.values.debounce !== undefined) {
        const ms = parseDuration(args.values.debounce);
        if (ms === undefined) throw new UsageError('--debounce expects a duration such as 20ms');
        debounceMs = ms;
      }

      const sel = { sysfsRoot: args.values['sysfs-root'] ?? io.env.FIELDGATE_SYSFS_ROOT ?? '/sys', backend, chip: args.values.chip };
      let lines: GpioLineFactory;
      try {
        lines = opts.openLines
          ? await opts.openLines(sel)
          : await openGpioBackend(sel, { now: () => clock.now(), onError: (err) => io.err(`fieldgate gpio: ${errorMessage(err)}\n`) });
      } catch (err) {
        return failure(io, err);
      }
      try {
        if (sub === 'write') {
          const line = await lines.open({ pin, direction: 'out', initial: toLogical(value!) });
          io.out(`GPIO${pin} = ${value}${activeLow ? ' (active-low)' : ''}\n`);
          // sysfs: keep the pin exported, since unexporting returns it to an input on the Pi.
          // cdev and fake: the line is held by this process, so it is released as it exits.
          if (lines.name !== 'sysfs') await line.release();
          return EXIT.OK;
        }
        const line = await lines.open({ pin, direction: 'in', observe: true });
        try {
          if (sub === 'read') {
            io.out(`${toLogical(await line.read())}\n`);
            return EXIT.OK;
          }
          const d = new Debouncer(clock, debounceMs, (v, ts) => io.out(`${new Date(ts).toISOString()}  GPIO${pin}  ${v}  ${v === 1 ? 'rising' : 'falling'}\n`));
          d.prime(toLogical(await line.read()));
          io.out(`watching GPIO${pin} (level ${d.level}${debounceMs ? `, debounce ${debounceMs} ms` : ''}); Ctrl-C to stop\n`);
          line.watch((v, ts) => d.edge(toLogical(v), ts));
          await (opts.untilStopped ?? untilSignal)();
          d.dispose();
          return EXIT.OK;
        } finally {
          line.unwatch();
          await line.release();
        }
      } catch (err) {
        return failure(io, err);
      } finally {
        await lines.close?.();
      }
    },
  };
}

export const gpioCommand = createGpioCommand();

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'active-low': { type: 'boolean' },
        debounce: { type: 'string' },
        backend: { type: 'string' },
        chip: { type: 'string' },
        force: { type: 'boolean' },
        config: { type: 'string' },
        'sysfs-root': { type: 'string' }, // development: a fake sysfs tree
      },
    });
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
}

/** Why writing PIN is refused while the daemon runs, or undefined when it is safe. */
function ownershipRefusal(pin: number, configFlag: string | undefined, io: CliIO): string | undefined {
  const configFile = configFlag ?? io.env.FIELDGATE_CONFIG ?? '/etc/fieldgate/gateway.yaml';
  const loaded = fs.existsSync(configFile) || configFlag ? loadConfigFile(configFile) : undefined;
  const socket = io.env.FIELDGATE_SOCKET ?? (loaded?.ok ? loaded.value.config.control.socket : undefined) ?? '/run/fieldgate/control.sock';
  if (!fs.existsSync(socket)) return undefined;
  if (!loaded) return `the daemon is running (${socket}) and its config ${configFile} is missing, so pin ownership cannot be checked; pass --config FILE, or --force`;
  if (!loaded.ok) {
    for (const p of loaded.problems) io.err(formatProblem(p) + '\n');
    return `the daemon is running (${socket}) and ${configFile} does not load, so pin ownership cannot be checked; use --force to write anyway`;
  }
  const owner = pinOwner(loaded.value.config, pin);
  if (!owner) return undefined;
  const how = owner.role === 'actuator' ? `; use \`fieldgate actuate ${owner.id} ...\`` : '';
  return `GPIO${pin} is owned by the running daemon as ${owner.role} "${owner.id}" of driver "${owner.driver}" (${configFile})${how}, or --force to write anyway`;
}

function failure(io: CliIO, err: unknown): number {
  io.err(`fieldgate gpio: ${errorMessage(err)}\n`);
  if (err instanceof DriverUnavailableError && err.fix) io.err(`fix: ${err.fix}\n`);
  return EXIT.FAIL;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}
