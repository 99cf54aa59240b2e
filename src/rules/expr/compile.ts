import { Quality, type SensorEnv } from './env';
import { ExprError } from './lexer';
import { parseExpression, type Ast } from './parser';

/**
 * Type-check an expression and turn it into a tree of closures over a
 * SensorEnv. Safe by construction: the only names an expression can reach are
 * sensor slots and the functions in the switch below — no eval, no property
 * access, no globals ("constructor" or "__proto__" are just unknown sensor ids).
 *
 * Static types: num, bool, str, and val (a sensor value: a number, or a string
 * for text sensors). A sensor holding text reads as NaN in arithmetic, and every
 * comparison with NaN is false — a rule never fires on a value it cannot read.
 */
type Type = 'num' | 'bool' | 'str' | 'val';
type Prim = number | boolean | string;
type Fn = (env: SensorEnv) => Prim;
type NumFn = (env: SensorEnv) => number;
export type BoolFn = (env: SensorEnv) => boolean;

interface Compiled {
  t: Type;
  fn: Fn;
}

export interface CompileOptions {
  /** When given, references to other sensors are errors. */
  isKnownSensor?: (id: string) => boolean;
}

export interface CompiledCondition {
  eval: BoolFn;
  /** Sensor ids the expression reads (its inputs), in order of first use. */
  sensors: string[];
}

export const FUNCTIONS = ['stale', 'bad', 'good', 'uncertain', 'age', 'abs', 'min', 'max'] as const;

const NAMES: Record<Type, string> = { num: 'a number', bool: 'a true/false condition', str: 'a text', val: 'a sensor value' };

/** Compile a condition (`when:`/`until:`); throws ExprError with an offset. */
export function compileCondition(src: string, env: SensorEnv, opts: CompileOptions = {}): CompiledCondition {
  const sensors: string[] = [];
  const c = new Compiler(env, opts, sensors).compile(parseExpression(src));
  if (c.t !== 'bool') throw new ExprError(`this is ${NAMES[c.t]}, but a condition must be true or false (compare it, e.g. "> 80")`, 0);
  return { eval: c.fn as BoolFn, sensors };
}

class Compiler {
  constructor(
    private readonly env: SensorEnv,
    private readonly opts: CompileOptions,
    private readonly sensors: string[],
  ) {}

  private slot(id: string, at: number): number {
    if (this.opts.isKnownSensor && !this.opts.isKnownSensor(id)) throw new ExprError(`unknown sensor "${id}"`, at);
    if (!this.sensors.includes(id)) this.sensors.push(id);
    return this.env.slot(id);
  }

  compile(n: Ast): Compiled {
    switch (n.k) {
      case 'num': {
        const v = n.v;
        return { t: 'num', fn: () => v };
      }
      case 'str': {
        const v = n.v;
        return { t: 'str', fn: () => v };
      }
      case 'bool': {
        const v = n.v;
        return { t: 'bool', fn: () => v };
      }
      case 'ref': {
        const s = this.slot(n.id, n.at);
        return { t: 'val', fn: (e) => e.values[s] };
      }
      case 'neg': {
        const x = this.num(n.x, '-');
        return { t: 'num', fn: (e) => -x(e) };
      }
      case 'not': {
        const x = this.bool(n.x, 'not');
        return { t: 'bool', fn: (e) => !x(e) };
      }
      case 'bin':
        return this.binary(n);
      case 'call':
        return this.call(n);
    }
  }

  private num(n: Ast, op: string): NumFn {
    const c = this.compile(n);
    if (c.t === 'num') return c.fn as NumFn;
    if (c.t === 'val') {
      const f = c.fn;
      return (e) => {
        const v = f(e);
        return typeof v === 'number' ? v : NaN;
      };
    }
    throw new ExprError(`"${op}" needs a number here, not ${NAMES[c.t]}`, n.at);
  }

  private bool(n: Ast, op: string): BoolFn {
    const c = this.compile(n);
    if (c.t !== 'bool') throw new ExprError(`"${op}" needs a condition here, not ${NAMES[c.t]}`, n.at);
    return c.fn as BoolFn;
  }

  private binary(n: Extract<Ast, { k: 'bin' }>): Compiled {
    const op = n.op;
    if (op === 'and' || op === 'or') {
      const a = this.bool(n.a, op);
      const b = this.bool(n.b, op);
      return { t: 'bool', fn: op === 'and' ? (e) => a(e) && b(e) : (e) => a(e) || b(e) };
    }
    if (op === '==' || op === '!=') return this.equality(n);
    const a = this.num(n.a, op);
    const b = this.num(n.b, op);
    switch (op) {
      case '<':
        return { t: 'bool', fn: (e) => a(e) < b(e) };
      case '<=':
        return { t: 'bool', fn: (e) => a(e) <= b(e) };
      case '>':
        return { t: 'bool', fn: (e) => a(e) > b(e) };
      case '>=':
        return { t: 'bool', fn: (e) => a(e) >= b(e) };
      case '+':
        return { t: 'num', fn: (e) => a(e) + b(e) };
      case '-':
        return { t: 'num', fn: (e) => a(e) - b(e) };
      case '*':
        return { t: 'num', fn: (e) => a(e) * b(e) };
      case '/':
        return { t: 'num', fn: (e) => a(e) / b(e) };
      default:
        return { t: 'num', fn: (e) => a(e) % b(e) };
    }
  }

  private equality(n: Extract<Ast, { k: 'bin' }>): Compiled {
    const a = this.compile(n.a);
    const b = this.compile(n.b);
    const numeric = (t: Type) => t === 'num' || t === 'val';
    const textual = (t: Type) => t === 'str' || t === 'val';
    const ok = a.t === b.t || (numeric(a.t) && numeric(b.t)) || (textual(a.t) && textual(b.t));
    if (!ok) throw new ExprError(`cannot compare ${NAMES[a.t]} with ${NAMES[b.t]}`, n.at);
    const fa = a.fn;
    const fb = b.fn;
    return { t: 'bool', fn: n.op === '==' ? (e) => fa(e) === fb(e) : (e) => fa(e) !== fb(e) };
  }

  private sensorArg(n: Extract<Ast, { k: 'call' }>): number {
    if (n.args.length !== 1 || n.args[0].k !== 'ref') throw new ExprError(`${n.fn}() takes one sensor id, e.g. ${n.fn}(furnace.temp)`, n.at);
    return this.slot(n.args[0].id, n.args[0].at);
  }

  private call(n: Extract<Ast, { k: 'call' }>): Compiled {
    switch (n.fn) {
      case 'stale': {
        const s = this.sensorArg(n);
        return { t: 'bool', fn: (e) => e.isStale(s) };
      }
      case 'bad': {
        const s = this.sensorArg(n);
        return { t: 'bool', fn: (e) => e.quality[s] === Quality.BAD };
      }
      case 'good': {
        const s = this.sensorArg(n);
        return { t: 'bool', fn: (e) => e.quality[s] === Quality.GOOD };
      }
      case 'uncertain': {
        const s = this.sensorArg(n);
        return { t: 'bool', fn: (e) => e.quality[s] === Quality.UNCERTAIN };
      }
      case 'age': {
        const s = this.sensorArg(n);
        return { t: 'num', fn: (e) => e.now - e.ts[s] };
      }
      case 'abs': {
        if (n.args.length !== 1) throw new ExprError('abs() takes one number', n.at);
        const x = this.num(n.args[0], 'abs');
        return { t: 'num', fn: (e) => Math.abs(x(e)) };
      }
      case 'min':
      case 'max': {
        if (n.args.length < 2) throw new ExprError(`${n.fn}() takes two or more numbers`, n.at);
        const xs = n.args.map((a) => this.num(a, n.fn));
        const pick = n.fn === 'min' ? Math.min : Math.max;
        if (xs.length === 2) {
          const [x, y] = xs;
          return { t: 'num', fn: (e) => pick(x(e), y(e)) };
        }
        return {
          t: 'num',
          fn: (e) => {
            let r = xs[0](e);
            for (let i = 1; i < xs.length; i++) r = pick(r, xs[i](e));
            return r;
          },
        };
      }
      default:
        throw new ExprError(`unknown function "${n.fn}" (functions: ${FUNCTIONS.join(', ')})`, n.at);
    }
  }
}
