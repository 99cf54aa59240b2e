import { z } from 'zod';
import { duration } from '../core/duration';

/**
 * The schema of a rule file (`rules/*.yaml`). Expressions stay strings here; the
 * loader compiles them (load.ts) so their errors carry a column.
 */
const actuatorRef = z.string().min(1).describe('Actuator id from the gateway config `actuators:`.');

export const SEVERITIES = ['info', 'warning', 'alarm', 'critical'] as const;

export const actionSchema = z.union([
  z
    .strictObject({
      set: z
        .strictObject({
          actuator: actuatorRef,
          value: z.union([z.boolean(), z.number()]).describe('true/false for on/off actuators, a number for analog ones.'),
        })
        .describe('Ask the arbiter to drive an actuator to a value (held while the rule is active).'),
    })
    .describe('set an actuator'),
  z.strictObject({
    event: z
      .strictObject({
        severity: z.enum(SEVERITIES).default('alarm').describe('info, warning, alarm or critical.'),
        message: z.string().min(1).describe('Text; {sensor.id} is replaced by the sensor\'s current value.'),
      })
      .describe('Publish an event (alarm) on .../events.'),
  }),
  z.strictObject({ release: actuatorRef.describe('Give up this rule\'s hold on an actuator.') }),
  z.strictObject({
    clear: z.union([z.literal(true), z.string().min(1)]).describe('Clear the alarm this rule raised (true, or a message).'),
  }),
]);

export const pidSchema = z
  .strictObject({
    input: z.string().min(1).describe('Measured sensor id (process variable).'),
    setpoint: z.number().describe('Target value of the input.'),
    kp: z.number().default(1).describe('Proportional gain.'),
    ki: z.number().nonnegative().default(0).describe('Integral gain (per second).'),
    kd: z.number().nonnegative().default(0).describe('Derivative gain (seconds); derivative on measurement, no kick on setpoint change.'),
    output: actuatorRef.describe('Analog (number) actuator the controller drives.'),
    min: z.number().default(0).describe('Lowest output.'),
    max: z.number().default(100).describe('Highest output.'),
    sampleTime: duration('Time between controller updates.').default(1000),
    reverse: z.boolean().default(false).describe('true when raising the output lowers the input (cooling).'),
  })
  .describe('A PID controller: output = kp·e + ki·∫e dt − kd·d(input)/dt, clamped to min..max.');

export const ruleSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'rule id: letters, digits and _ . : -').describe('Rule id, unique across all rule files.'),
    description: z.string().optional().describe('What the rule is for, in words.'),
    enabled: z.boolean().default(true).describe('false: loaded and checked but never evaluated.'),
    safety: z.boolean().default(false).describe('A safety interlock: its actuator holds beat cloud and local commands.'),
    when: z.string().min(1).optional().describe('Condition that fires the rule, e.g. "furnace.temp > 80".'),
    for: duration('The condition must hold continuously this long before the rule fires.').default(0),
    until: z.string().min(1).optional().describe('Condition that releases the rule (hysteresis). Default: when the `when` condition is false.'),
    cooldown: duration('After releasing, the rule rests this long before it may fire again.').default(0),
    maxAge: duration("Inputs older than this are stale → failsafe on the rule's actuators. Default: each sensor's maxAge.").optional(),
    then: z.array(actionSchema).optional().describe('Actions when the rule fires.'),
    else: z.array(actionSchema).optional().describe('Actions when the rule releases.'),
    pid: pidSchema.optional(),
  })
  .superRefine((r, ctx) => {
    if (r.pid && (r.when || r.until || r.then || r.else)) {
      ctx.addIssue({ code: 'custom', path: ['pid'], message: 'a pid rule has no when/until/then/else; write a separate rule' });
    } else if (!r.pid && !r.when) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a rule needs either `when:` (with `then:`) or `pid:`' });
    } else if (r.when && (!r.then || r.then.length === 0)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a rule with `when:` needs a non-empty `then:` list' });
    }
    if (r.pid && r.pid.min > r.pid.max) ctx.addIssue({ code: 'custom', path: ['pid', 'min'], message: 'pid.min is greater than pid.max' });
  })
  .describe('A local control rule.');

export const ruleFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    rules: z.array(ruleSchema).default([]).describe('The rules of this file.'),
  })
  .describe('A fieldgate rule file.');

export type RuleConfig = z.infer<typeof ruleSchema>;
export type RuleAction = z.infer<typeof actionSchema>;
export type PidConfig = z.infer<typeof pidSchema>;
export type Severity = (typeof SEVERITIES)[number];
