import { parseExpression, type Ast } from './expr/parser';
import type { RuleConfig } from './schema';

/**
 * Safety rules that can force one actuator to different values at the same
 * time: the arbiter would let whichever fired last win, so neither is an
 * interlock any more. `rules check` and the daemon's loader report each pair.
 *
 * A safety rule holds its `then` values while active. While active, its release
 * condition is false: with `until:`, `not until`; without, `when`. Two rules can
 * be active together unless those conditions are provably exclusive — here, by
 * bounds on one sensor: conjunctions of comparisons with constants
 * (`furnace.temp >= 75` and `furnace.temp <= 10` cannot both hold). Anything
 * else is assumed to overlap.
 */
export interface SafetyConflict {
  /** Index of the later rule (where the problem is reported) and of the earlier one, in `rules`. */
  rule: number;
  other: number;
  actuator: string;
  /** Index of the later rule's `then` action that sets the actuator. */
  action: number;
  value: boolean | number | 'pid';
  otherValue: boolean | number | 'pid';
}

export function safetyConflicts(rules: readonly RuleConfig[]): SafetyConflict[] {
  const forces = rules.map((r) => (r.safety && r.enabled ? forcedValues(r) : []));
  const active = rules.map((r) => (r.safety && r.enabled ? activeBounds(r) : undefined));
  const out: SafetyConflict[] = [];
  for (let i = 0; i < rules.length; i++) {
    for (const f of forces[i]) {
      for (let j = 0; j < i; j++) {
        const g = forces[j].find((x) => x.actuator === f.actuator && (x.value !== f.value || x.value === 'pid'));
        if (!g || exclusive(active[i], active[j])) continue;
        out.push({ rule: i, other: j, actuator: f.actuator, action: f.action, value: f.value, otherValue: g.value });
        break;
      }
    }
  }
  return out;
}

interface Force {
  actuator: string;
  value: boolean | number | 'pid';
  action: number;
}

function forcedValues(r: RuleConfig): Force[] {
  const out: Force[] = [];
  r.then?.forEach((a, action) => {
    if ('set' in a) out.push({ actuator: a.set.actuator, value: a.set.value, action });
  });
  if (r.pid) out.push({ actuator: r.pid.output, value: 'pid', action: -1 });
  return out;
}

/** Per sensor: the interval its value must lie in (lo/hi inclusive flags). */
interface Interval {
  lo: number;
  loIn: boolean;
  hi: number;
  hiIn: boolean;
}
type Bounds = Map<string, Interval>;

/** What must hold while the rule is active, as bounds; undefined when not expressible (or a PID rule: always active). */
function activeBounds(r: RuleConfig): Bounds | undefined {
  try {
    if (r.until !== undefined) return bounds(parseExpression(r.until), true);
    if (r.when !== undefined) return bounds(parseExpression(r.when), false);
  } catch {
    // An expression that does not parse is reported by the loader itself.
  }
  return undefined;
}

const FLIP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==' };
const NEGATE: Record<string, string> = { '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

/** Bounds implied by `n` (or by `not n` when `negated`), or undefined. */
function bounds(n: Ast, negated: boolean): Bounds | undefined {
  if (n.k === 'not') return bounds(n.x, !negated);
  if (n.k !== 'bin') return undefined;
  // and, or under negation (De Morgan): both sides must hold.
  if ((n.op === 'and' && !negated) || (n.op === 'or' && negated)) {
    const a = bounds(n.a, negated);
    const b = bounds(n.b, negated);
    if (!a) return b;
    if (!b) return a;
    return intersect(a, b);
  }
  let ref: string | undefined;
  let num: number | undefined;
  let op: string | undefined = n.op;
  if (n.a.k === 'ref' && n.b.k === 'num') [ref, num] = [n.a.id, n.b.v];
  else if (n.a.k === 'num' && n.b.k === 'ref') [ref, num, op] = [n.b.id, n.a.v, FLIP[n.op]];
  if (ref === undefined || num === undefined || op === undefined) return undefined;
  if (negated) op = NEGATE[op];
  if (op === undefined) return undefined; // == under negation: no single interval
  const iv: Interval = { lo: -Infinity, loIn: false, hi: Infinity, hiIn: false };
  if (op === '<' || op === '<=') Object.assign(iv, { hi: num, hiIn: op === '<=' });
  else if (op === '>' || op === '>=') Object.assign(iv, { lo: num, loIn: op === '>=' });
  else if (op === '==') Object.assign(iv, { lo: num, loIn: true, hi: num, hiIn: true });
  else return undefined;
  return new Map([[ref, iv]]);
}

function intersect(a: Bounds, b: Bounds): Bounds {
  const out = new Map(a);
  for (const [s, y] of b) {
    const x = out.get(s);
    if (!x) {
      out.set(s, y);
      continue;
    }
    const lo = x.lo > y.lo || (x.lo === y.lo && !x.loIn) ? { lo: x.lo, loIn: x.loIn } : { lo: y.lo, loIn: y.loIn };
    const hi = x.hi < y.hi || (x.hi === y.hi && !x.hiIn) ? { hi: x.hi, hiIn: x.hiIn } : { hi: y.hi, hiIn: y.hiIn };
    out.set(s, { ...lo, ...hi });
  }
  return out;
}

function empty(iv: Interval): boolean {
  return iv.lo > iv.hi || (iv.lo === iv.hi && !(iv.loIn && iv.hiIn));
}

function exclusive(a: Bounds | undefined, b: Bounds | undefined): boolean {
  if (!a || !b) return false;
  for (const iv of intersect(a, b).values()) if (empty(iv)) return true;
  return false;
}
