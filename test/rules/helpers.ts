import { actuatorSchema, type ActuatorConfig } from '../../src/config/actuator';
import { parseRuleTexts, type RuleContext, type RuleSet } from '../../src/rules/load';
import { formatProblem } from '../../src/config/yaml-source';

/** An actuator config with schema defaults applied. */
export function actuator(fields: Partial<Record<keyof ActuatorConfig, unknown>> & { id: string }): ActuatorConfig {
  return actuatorSchema.parse({ driver: 'sim', target: { output: fields.id }, ...fields });
}

export function context(sensors: string[], actuators: ActuatorConfig[]): RuleContext {
  return { sensors: new Set(sensors), actuators: new Map(actuators.map((a) => [a.id, a])) };
}

/** Compile one rule file's text or fail the test with its problems. */
export function ruleSet(text: string, ctx: RuleContext = {}): RuleSet {
  const res = parseRuleTexts([{ file: 'test.yaml', text }], ctx);
  if (!res.ok) throw new Error(res.problems.map(formatProblem).join('\n'));
  return res.set;
}
