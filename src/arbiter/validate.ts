import type { ActuatorConfig } from '../config/actuator';

export type ActuatorValue = boolean | number;

/** Why `value` is not acceptable for actuator `a`, or undefined when it is (rules check, arbiter, commands). */
export function valueProblem(a: ActuatorConfig, value: unknown): string | undefined {
  if (a.type === 'bool') {
    return typeof value === 'boolean' ? undefined : `actuator "${a.id}" is on/off: value must be true or false, not ${show(value)}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `actuator "${a.id}" takes a number, not ${show(value)}`;
  if (a.min !== undefined && value < a.min) return `value ${value} is below the minimum ${a.min} of actuator "${a.id}"`;
  if (a.max !== undefined && value > a.max) return `value ${value} is above the maximum ${a.max} of actuator "${a.id}"`;
  if (a.values && !a.values.includes(value)) return `value ${value} is not one of the allowed values (${a.values.join(', ')}) of actuator "${a.id}"`;
  return undefined;
}

/** On/off view of a value, for min on / min off times: true, or a non-zero number, is "on". */
export function isOn(v: ActuatorValue): boolean {
  return v === true || (typeof v === 'number' && v !== 0);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 40 ? s.slice(0, 40) + '…' : s;
}
