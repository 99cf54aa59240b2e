import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { actuatorTargetValue } from '../../drivers';
import { loadConfigFile } from '../config/load';
import { formatProblem, type Problem } from '../config/yaml-source';
import { SensorTable } from '../daemon/sensor-table';
import { dryRun, inferActuators, parseTraceCsv } from '../rules/dry-run';
import { loadRuleFiles, loadRuleSet, type RuleContext } from '../rules/load';
import { ruleFileSchema } from '../rules/schema';
import { EXIT, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';
import { rulesFromDaemon } from './daemon-views';

const usage = `Usage:
  fieldgate rules [--json] [--socket PATH]
      which set the running daemon runs (the rules directory's, the last-known-good
      copy, or none: every actuator at its failsafe), since when, what was rejected;
      then each rule: state (idle / pending / active / cooldown), last fired.
      Exit 0 when the directory's set runs and nothing is rejected, else 1
  fieldgate rules check DIR|FILE [--config FILE]
      validate rule files; prints FILE:LINE:COL: message per error
  fieldgate rules schema
      print the JSON Schema of rule files (for yaml-language-server)
  fieldgate rules test FILE --trace CSV [--config FILE]
      dry-run a rule file over a recorded trace (CSV ts,sensor,value[,quality]) in
      virtual time and print when each action would fire; needs no daemon

Sensor and actuator ids are checked against the gateway config given with
--config, else $FIELDGATE_CONFIG or /etc/fieldgate/gateway.yaml when it exists.

Exit status of check and test: 0 valid, 1 errors.`;

export const rulesCommand: CommandModule = {
  summary: 'list the daemon\'s rules, check rule files, or dry-run them over a trace',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    const [sub, ...rest] = argv;
    if (sub === 'check') return check(rest, io);
    if (sub === 'test') return dryRunCommand(rest, io);
    if (sub === 'schema') {
      const schema = z.toJSONSchema(ruleFileSchema, { io: 'input', unrepresentable: 'any', target: 'draft-7' });
      io.out(JSON.stringify({ ...schema, title: 'fieldgate rule file' }, null, 2) + '\n');
      return EXIT.OK;
    }
    if (sub === undefined || sub.startsWith('-')) return rulesFromDaemon(argv, io);
    throw new UsageError(`unknown subcommand "${sub}"`);
  },
};

function parse(argv: string[], options: Record<string, { type: 'string' }>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The cross-check context from the gateway config, or {} when there is none. Undefined when the config is invalid. */
function ruleContext(flag: string | undefined, io: CliIO): { ctx: RuleContext; table?: SensorTable } | undefined {
  const candidates = flag ? [flag] : [io.env.FIELDGATE_CONFIG, '/etc/fieldgate/gateway.yaml'].filter((f): f is string => !!f && fs.existsSync(f));
  const file = candidates[0];
  if (!file) {
    io.err('note: no gateway config found; sensor and actuator ids are not checked (use --config FILE)\n');
    return { ctx: {} };
  }
  const res = loadConfigFile(file);
  if (!res.ok) {
    printProblems(io, res.problems);
    io.err(`the gateway config ${file} is invalid; fix it first\n`);
    return undefined;
  }
  const { config, sensors } = res.value;
  return {
    ctx: { sensors: new Set(sensors.map((s) => s.id)), actuators: new Map(config.actuators.map((a) => [a.id, a])), targetValue: actuatorTargetValue(config.drivers) },
    table: new SensorTable(sensors),
  };
}

function printProblems(io: CliIO, problems: readonly Problem[]): void {
  for (const p of problems) io.err(formatProblem(p) + '\n');
}

function check(argv: string[], io: CliIO): number {
  const { values, positionals } = parse(argv, { config: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('rules check takes exactly one DIR or FILE');
  const target = positionals[0];
  const c = ruleContext(values.config, io);
  if (!c) return EXIT.FAIL;
  const isFile = fs.existsSync(target) && fs.statSync(target).isFile();
  const res = isFile ? loadRuleFiles([target], c.ctx) : loadRuleSet(target, c.ctx);
  if (!res.ok) {
    printProblems(io, res.problems);
    io.err(`${res.problems.length} error(s) in ${target}\n`);
    return EXIT.FAIL;
  }
  io.out(`${target}: OK — ${res.rules.length} rule(s) in ${res.set.files.length} file(s)\n`);
  return EXIT.OK;
}

async function dryRunCommand(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, trace: { type: 'string' } });
  if (positionals.length !== 1 || !values.trace) throw new UsageError('rules test takes FILE and --trace CSV');
  const c = ruleContext(values.config, io);
  if (!c) return EXIT.FAIL;
  const res = loadRuleFiles([positionals[0]], c.ctx);
  if (!res.ok) {
    printProblems(io, res.problems);
    return EXIT.FAIL;
  }
  let text: string;
  try {
    text = fs.readFileSync(values.trace, 'utf8');
  } catch (err) {
    io.err(`cannot read trace ${values.trace}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return EXIT.FAIL;
  }
  const trace = parseTraceCsv(values.trace, text);
  if (!trace.ok) {
    printProblems(io, trace.problems);
    return EXIT.FAIL;
  }
  const actuators = c.ctx.actuators ? [...c.ctx.actuators.values()] : inferActuators(res.set);
  const lines = await dryRun(res.set, trace.rows, { actuators, sensors: c.table, targetValue: c.ctx.targetValue });
  const start = trace.rows[0]?.ts ?? 0;
  const width = Math.max(8, ...lines.map((l) => l.who.length));
  for (const l of lines) {
    const rel = `+${((l.ts - start) / 1000).toFixed(3)}s`;
    io.out(`${new Date(l.ts).toISOString()}  ${rel.padStart(10)}  ${l.who.padEnd(width)}  ${l.what}\n`);
  }
  io.out(`${trace.rows.length} reading(s), ${lines.length} action(s)\n`);
  return EXIT.OK;
}
