import { ExprError, tokenize, type Token } from './lexer';

/**
 * Recursive-descent parser of rule expressions. Precedence, lowest first:
 *
 *   or / ||   →   and / &&   →   not / !   →   < <= > >= == !=   →   + -   →   * / %   →   unary -
 *
 * Comparisons do not chain (`a < b < c` is an error). The result is a plain AST
 * with offsets; compile.ts type-checks it and turns it into closures.
 */
export type Ast =
  | { k: 'num'; v: number; at: number }
  | { k: 'str'; v: string; at: number }
  | { k: 'bool'; v: boolean; at: number }
  | { k: 'ref'; id: string; at: number }
  | { k: 'call'; fn: string; args: Ast[]; at: number }
  | { k: 'neg' | 'not'; x: Ast; at: number }
  | { k: 'bin'; op: BinaryOp; a: Ast; b: Ast; at: number };

export type BinaryOp = 'or' | 'and' | '<' | '<=' | '>' | '>=' | '==' | '!=' | '+' | '-' | '*' | '/' | '%';

const COMPARE = new Set(['<', '<=', '>', '>=', '==', '!=']);
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);

export function parseExpression(src: string): Ast {
  if (src.trim() === '') throw new ExprError('empty expression', 0);
  const p = new Parser(tokenize(src));
  const ast = p.or();
  const t = p.peek();
  if (t.kind !== 'end') throw new ExprError(`unexpected ${describe(t)}; expected an operator or the end`, t.offset);
  return ast;
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of expression';
  if (t.kind === 'str') return `string "${t.text}"`;
  return `"${t.text}"`;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return (t.kind === 'op' || t.kind === 'ident') && ops.includes(t.text);
  }

  or(): Ast {
    let a = this.and();
    while (this.isOp('or', '||')) {
      const at = this.next().offset;
      a = { k: 'bin', op: 'or', a, b: this.and(), at };
    }
    return a;
  }

  private and(): Ast {
    let a = this.not();
    while (this.isOp('and', '&&')) {
      const at = this.next().offset;
      a = { k: 'bin', op: 'and', a, b: this.not(), at };
    }
    return a;
  }

  private not(): Ast {
    if (this.isOp('not', '!')) {
      const at = this.next().offset;
      return { k: 'not', x: this.not(), at };
    }
    return this.compare();
  }

  private compare(): Ast {
    const a = this.additive();
    const t = this.peek();
    if (t.kind !== 'op' || !COMPARE.has(t.text)) return a;
    this.next();
    const b = this.additive();
    const after = this.peek();
    if (after.kind === 'op' && COMPARE.has(after.text)) {
      throw new ExprError('comparisons do not chain; write "a < b and b < c"', after.offset);
    }
    return { k: 'bin', op: t.text as BinaryOp, a, b, at: t.offset };
  }

  private additive(): Ast {
    let a = this.multiplicative();
    while (this.isOp('+', '-')) {
      const t = this.next();
      a = { k: 'bin', op: t.text as BinaryOp, a, b: this.multiplicative(), at: t.offset };
    }
    return a;
  }

  private multiplicative(): Ast {
    let a = this.unary();
    while (this.isOp('*', '/', '%')) {
      const t = this.next();
      a = { k: 'bin', op: t.text as BinaryOp, a, b: this.unary(), at: t.offset };
    }
    return a;
  }

  private unary(): Ast {
    if (this.isOp('-')) {
      const at = this.next().offset;
      return { k: 'neg', x: this.unary(), at };
    }
    return this.primary();
  }

  private primary(): Ast {
    const t = this.next();
    switch (t.kind) {
      case 'num':
        return { k: 'num', v: t.num, at: t.offset };
      case 'str':
        return { k: 'str', v: t.text, at: t.offset };
      case 'ref':
        if (t.text === '') throw new ExprError('empty `sensor id`', t.offset);
        return { k: 'ref', id: t.text, at: t.offset };
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return { k: 'bool', v: t.text === 'true', at: t.offset };
        if (KEYWORDS.has(t.text)) throw new ExprError(`unexpected "${t.text}"; expected a value`, t.offset);
        if (this.isOp('(')) return this.call(t);
        return { k: 'ref', id: t.text, at: t.offset };
      }
      case 'op':
        if (t.text === '(') {
          const inner = this.or();
          const close = this.next();
          if (close.kind !== 'op' || close.text !== ')') throw new ExprError(`expected ")" but found ${describe(close)}`, close.offset);
          return inner;
        }
        throw new ExprError(`unexpected ${describe(t)}; expected a value`, t.offset);
      default:
        throw new ExprError('unexpected end of expression; expected a value', t.offset);
    }
  }

  private call(name: Token): Ast {
    this.next(); // (
    const args: Ast[] = [];
    if (!this.isOp(')')) {
      for (;;) {
        args.push(this.or());
        if (!this.isOp(',')) break;
        this.next();
      }
    }
    const close = this.next();
    if (close.kind !== 'op' || close.text !== ')') throw new ExprError(`expected "," or ")" but found ${describe(close)}`, close.offset);
    return { k: 'call', fn: name.text, args, at: name.offset };
  }
}
