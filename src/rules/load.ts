import * as fs from 'node:fs';
import * as path from 'node:path';
import { isScalar, type Scalar } from 'yaml';
import type { ActuatorConfig } from '../config/actuator';
import type { ActuatorTargetValue } from '../../drivers/driver';
import { YamlSource, type ConfigPath, type Problem } from '../config/yaml-source';
import { zodProblems } from '../config/zod-problems';
import { compileCondition, type CompiledCondition } from './expr/compile';
import { SensorEnv } from './expr/env';
import { ExprError } from './expr/lexer';
import { compileTemplate, type Template } from './template';
import { valueProblem } from '../arbiter/validate';
import { ruleFileSchema, type RuleAction, type RuleConfig } from './schema';
import { safetyConflicts } from './conflicts';

/** What rules are checked against: the gateway's sensors and actuators (either may be omitted). */
export interface RuleContext {
  sensors?: ReadonlySet<string>;
  actuators?: ReadonlyMap<string, ActuatorConfig>;
  /** What each actuator's target really holds (its driver kind's targetValue); set values are checked against it when given. */
  targetValue?: ActuatorTargetValue;
}

export interface CompiledRule {
  config: RuleConfig;
  file: string;
  when?: CompiledCondition;
  until?: CompiledCondition;
  /** Compiled event messages, by [then|else][action index]. */
  messages: Map<RuleAction, Template>;
  /** Sensors whose readings re-evaluate this rule and whose staleness triggers failsafe. */
  inputs: string[];
  /** Actuators this rule can drive (set / release / pid output). */
  actuators: string[];
}

/** A compiled, validated set of rules sharing one environment. Swapped as a whole. */
export interface RuleSet {
  rules: CompiledRule[];
  env: SensorEnv;
  files: string[];
  /** The text of every file, as validated (kept as the last-known-good set). */
  sources: { file: string; text: string }[];
}

export type RuleLoadResult = { ok: true; set: RuleSet; rules: CompiledRule[] } | { ok: false; problems: Problem[] };

/** Every `*.yaml` / `*.yml` file in `dir`, sorted by name. */
export function ruleFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function loadRuleSet(dir: string, ctx: RuleContext = {}): RuleLoadResult {
  let files: string[];
  try {
    files = ruleFilesIn(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, problems: [{ file: dir, line: 1, col: 1, message: `cannot read rules directory: ${code ?? String(err)}` }] };
  }
  return loadRuleFiles(files, ctx);
}

export const MAX_RULE_FILE_BYTES = 1024 * 1024;

export function loadRuleFiles(files: readonly string[], ctx: RuleContext = {}): RuleLoadResult {
  const texts: { file: string; text: string }[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    try {
      // Bounded before it is read: a rule file is a few KiB; a huge one is a mistake.
      const size = fs.statSync(file).size;
      if (size > MAX_RULE_FILE_BYTES) {
        problems.push({ file, line: 1, col: 1, message: `rule file is ${size} bytes; at most ${MAX_RULE_FILE_BYTES} are read` });
        continue;
      }
      texts.push({ file, text: fs.readFileSync(file, 'utf8') });
    } catch (err) {
      problems.push({ file, line: 1, col: 1, message: `cannot read rule file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return parseRuleTexts(texts, ctx);
}

/** Validate and compile rule file texts (pure; no I/O). */
export function parseRuleTexts(texts: readonly { file: string; text: string }[], ctx: RuleContext = {}): RuleLoadResult {
  const env = new SensorEnv();
  const problems: Problem[] = [];
  const rules: CompiledRule[] = [];
  const seen = new Map<string, string>();
  const where: { src: YamlSource; at: ConfigPath }[] = [];
  const configs: RuleConfig[] = [];
  for (const { file, text } of texts) {
    const src = new YamlSource(file, text);
    const syntax = src.syntaxProblems();
    if (syntax.length > 0) {
      problems.push(...syntax);
      continue;
    }
    const parsed = ruleFileSchema.safeParse(src.toJS());
    if (!parsed.success) {
      problems.push(...zodProblems(src, parsed.error));
      continue;
    }
    parsed.data.rules.forEach((config, i) => {
      const first = seen.get(config.id);
      if (first) problems.push(src.problem(['rules', i, 'id'], `duplicate rule id "${config.id}" (first defined in ${first})`));
      else seen.set(config.id, file);
      const rule = new RuleChecker(src, ['rules', i], ctx, env, problems).check(config);
      if (rule) rules.push(rule);
      configs.push(config);
      where.push({ src, at: ['rules', i] });
    });
  }
  for (const c of safetyConflicts(configs)) {
    const { src, at } = where[c.rule];
    const other = where[c.other];
    const pos = other.src.position(other.at);
    const show = (v: boolean | number | 'pid') => (v === 'pid' ? 'its PID output' : JSON.stringify(v));
    problems.push(
      src.problem(
        c.action >= 0 ? [...at, 'then', c.action, 'set', 'value'] : [...at, 'pid', 'output'],
        `safety rules "${configs[c.rule].id}" and "${configs[c.other].id}" (${other.src.file}:${pos.line}:${pos.col}) can both be active and force actuator "${c.actuator}" to different values (${show(c.value)} and ${show(c.otherValue)}); the one that fired last would win. Make their conditions exclusive on one sensor, or make one of them a normal rule`,
      ),
    );
  }
  if (problems.length > 0) return { ok: false, problems: problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col) };
  return { ok: true, set: { rules, env, files: texts.map((t) => t.file), sources: texts.map(({ file, text }) => ({ file, text })) }, rules };
}

class RuleChecker {
  constructor(
    private readonly src: YamlSource,
    private readonly at: ConfigPath,
    private readonly ctx: RuleContext,
    private readonly env: SensorEnv,
    private readonly problems: Problem[],
  ) {}

  private isKnownSensor = (id: string) => !this.ctx.sensors || this.ctx.sensors.has(id);

  check(config: RuleConfig): CompiledRule | undefined {
    const before = this.problems.length;
    const inputs: string[] = [];
    const actuators: string[] = [];
    const messages = new Map<RuleAction, Template>();
    const when = config.when !== undefined ? this.condition('when', config.when) : undefined;
    const until = config.until !== undefined ? this.condition('until', config.until) : undefined;
    for (const c of [when, until]) for (const s of c?.sensors ?? []) if (!inputs.includes(s)) inputs.push(s);
    for (const list of ['then', 'else'] as const) {
      config[list]?.forEach((action, j) => this.action(action, [...this.at, list, j], config, actuators, messages));
    }
    if (config.pid) {
      const p = config.pid;
      if (!this.isKnownSensor(p.input)) this.problem(['pid', 'input'], `unknown sensor "${p.input}"`);
      else inputs.push(p.input);
      this.env.slot(p.input);
      const a = this.actuator(p.output, [...this.at, 'pid', 'output']);
      if (a && a.type !== 'number') this.problem(['pid', 'output'], `pid output "${p.output}" is an on/off actuator; a pid needs a number actuator`);
      if (!actuators.includes(p.output)) actuators.push(p.output);
    }
    if (this.problems.length > before) return undefined;
    return { config, file: this.src.file, when, until, messages, inputs, actuators };
  }

  private problem(rel: ConfigPath, message: string): void {
    this.problems.push(this.src.problem([...this.at, ...rel], message));
  }

  private condition(key: 'when' | 'until', text: string): CompiledCondition | undefined {
    try {
      return compileCondition(text, this.env, { isKnownSensor: this.isKnownSensor });
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      this.problems.push(expressionProblem(this.src, [...this.at, key], err));
      return undefined;
    }
  }

  private actuator(id: string, where: ConfigPath): ActuatorConfig | undefined {
    if (!this.ctx.actuators) return undefined;
    const a = this.ctx.actuators.get(id);
    if (!a) {
      const known = [...this.ctx.actuators.keys()].join(', ') || 'none configured';
      this.problems.push(this.src.problem(where, `unknown actuator "${id}" (actuators: ${known})`));
    }
    return a;
  }

  /** Why `a`'s target cannot hold `value` as written (a rule's set value is never rounded silently). */
  private targetProblem(a: ActuatorConfig, value: unknown): string | undefined {
    if (typeof value !== 'number' || !this.ctx.targetValue) return undefined;
    const tv = this.ctx.targetValue(a, value);
    if (tv && 'error' in tv) return tv.error;
    if (tv?.rounded && !a.round) return `${value} cannot be written exactly to actuator "${a.id}" (its target would hold ${String(tv.value)}); set ${String(tv.value)}, or set round: true on the actuator`;
    return undefined;
  }

  private action(action: RuleAction, where: ConfigPath, config: RuleConfig, actuators: string[], messages: Map<RuleAction, Template>): void {
    if ('set' in action) {
      const { actuator, value } = action.set;
      const a = this.actuator(actuator, [...where, 'set', 'actuator']);
      const problem = a ? (valueProblem(a, value) ?? this.targetProblem(a, value)) : undefined;
      if (problem) this.problems.push(this.src.problem([...where, 'set', 'value'], problem));
      if (!actuators.includes(actuator)) actuators.push(actuator);
    } else if ('release' in action) {
      this.actuator(action.release, [...where, 'release']);
    } else if ('event' in action) {
      try {
        messages.set(action, compileTemplate(action.event.message, this.env, this.isKnownSensor));
      } catch (err) {
        if (!(err instanceof ExprError)) throw err;
        this.problems.push(expressionProblem(this.src, [...where, 'event', 'message'], err));
      }
    }
  }
}

/**
 * Position of an expression error: the scalar's start plus the offset inside the
 * expression. Exact for single-line plain and quoted scalars (without escapes
 * before the error) and for literal block scalars (`|`); other styles point at
 * the start of the scalar.
 */
export function expressionProblem(src: YamlSource, at: ConfigPath, err: ExprError): Problem {
  const start = src.position(at);
  const node = src.doc.getIn(at, true);
  const base = { file: src.file, message: err.message };
  if (!isScalar(node) || typeof node.value !== 'string' || !node.range) return { ...base, ...start };
  const s = node as Scalar<string>;
  const raw = src.text.slice(s.range![0], s.range![1]);
  const quoted = s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE';
  if ((s.type === 'PLAIN' || quoted) && !raw.includes('\n')) {
    return { ...base, line: start.line, col: start.col + (quoted ? 1 : 0) + err.offset };
  }
  if (s.type === 'BLOCK_LITERAL') {
    const before = s.value.slice(0, err.offset);
    const lineInValue = before.split('\n').length - 1;
    const colInLine = err.offset - (before.lastIndexOf('\n') + 1);
    const bodyLines = raw.split('\n').slice(1);
    const firstContent = bodyLines.find((l) => l.trim() !== '') ?? '';
    const indent = firstContent.length - firstContent.trimStart().length;
    const leadingBlank = bodyLines.indexOf(firstContent);
    return { ...base, line: start.line + 1 + leadingBlank + lineInValue, col: indent + colInLine + 1 };
  }
  return { ...base, ...start };
}
