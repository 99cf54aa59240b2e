import { loadConfigFile } from '../config/load';
import { configJsonSchema } from '../config/schema';
import { notifyAddonLoads, unitDropIn } from '../config/unit-dropin';
import { formatProblem, type Problem } from '../config/yaml-source';
import { EXIT, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';
import { CONFIG_VERSIONS_USAGE, configRollback, configVersions } from './deploy';

const usage = `Usage:
  fieldgate config check FILE   validate a gateway config; prints FILE:LINE:COL: message per error
  fieldgate config schema       print the JSON Schema of the config (for yaml-language-server)
  fieldgate config unit FILE    print the systemd drop-in the config's drivers need (BLE capabilities,
                                GPIO sysfs paths); scripts/install.sh writes it; empty when none
${CONFIG_VERSIONS_USAGE}

Exit status of check and unit: 0 valid, 1 invalid.`;

export const configCommand: CommandModule = {
  summary: 'check a gateway config file, print its JSON Schema, list deployed versions',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    const [sub, ...rest] = argv;
    if (sub === 'schema') {
      io.out(JSON.stringify(configJsonSchema(), null, 2) + '\n');
      return EXIT.OK;
    }
    if (sub === 'versions') return configVersions(rest, io);
    if (sub === 'rollback') return configRollback(rest, io);
    if (sub === 'unit') {
      if (rest.length !== 1) throw new UsageError('config unit takes exactly one FILE');
      const res = loadConfigFile(rest[0]);
      if (!res.ok) return reportProblems(io, rest[0], res.problems);
      io.out(unitDropIn(res.value.config, { notifyAddon: notifyAddonLoads() }));
      return EXIT.OK;
    }
    if (sub === 'check') {
      if (rest.length !== 1) throw new UsageError('config check takes exactly one FILE');
      const res = loadConfigFile(rest[0]);
      if (res.ok) {
        const c = res.value;
        io.out(
          `${rest[0]}: OK — gateway "${c.config.gateway.id}", ${c.config.drivers.length} driver(s), ${c.sensors.length} sensor(s), ${c.config.actuators.length} actuator(s)\n`,
        );
        return EXIT.OK;
      }
      return reportProblems(io, rest[0], res.problems);
    }
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  },
};

function reportProblems(io: CliIO, file: string, problems: Problem[]): number {
  for (const p of problems) io.err(formatProblem(p) + '\n');
  io.err(`${problems.length} error(s) in ${file}\n`);
  return EXIT.FAIL;
}
