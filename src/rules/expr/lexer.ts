/**
 * Tokenizer of the rule expression language. Every token carries its offset in
 * the expression text so parse errors point at a column.
 *
 *   furnace.temp > 80 and not stale(furnace.temp)
 *   `pump-1.flow` < 0.5          (backticks quote ids that contain - or start with a digit)
 *   age(door.contact) > 5m       (a number with a unit is a duration in ms)
 */

export type TokenKind = 'num' | 'str' | 'ident' | 'ref' | 'op' | 'end';

export interface Token {
  kind: TokenKind;
  /** Operator/punctuation text, identifier, quoted ref or string contents. */
  text: string;
  /** Numeric value of a 'num' token (durations already in ms). */
  num: number;
  offset: number;
}

/** A problem in an expression; `offset` is the 0-based index into the expression text. */
export class ExprError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'ExprError';
  }
}

const OPERATORS = ['<=', '>=', '==', '!=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '!'];
const UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['ms', 1],
  ['s', 1000],
  ['m', 60_000],
  ['h', 3_600_000],
]);
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_.:]/;
const NUMBER_RE = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    const numMatch = /[0-9.]/.test(c) ? NUMBER_RE.exec(src.slice(i)) : null;
    if (numMatch) {
      i += numMatch[0].length;
      let value = Number(numMatch[0]);
      let unit = '';
      while (i < src.length && /[a-z]/i.test(src[i])) unit += src[i++];
      if (unit) {
        const ms = UNIT_MS.get(unit);
        if (ms === undefined) throw new ExprError(`unknown unit "${unit}" after number (units: ms, s, m, h)`, start + numMatch[0].length);
        value *= ms;
      }
      out.push({ kind: 'num', text: src.slice(start, i), num: value, offset: start });
      continue;
    }
    if (IDENT_START.test(c)) {
      while (i < src.length && IDENT_PART.test(src[i])) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), num: 0, offset: start });
      continue;
    }
    if (c === '`' || c === '"' || c === "'") {
      const close = src.indexOf(c, i + 1);
      if (close < 0) throw new ExprError(c === '`' ? 'unterminated `sensor id`' : 'unterminated string', start);
      out.push({ kind: c === '`' ? 'ref' : 'str', text: src.slice(i + 1, close), num: 0, offset: start });
      i = close + 1;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) {
      const hint = c === '=' ? ' (use == to compare)' : c === '&' ? ' (use and)' : c === '|' ? ' (use or)' : '';
      throw new ExprError(`unexpected character "${c}"${hint}`, start);
    }
    out.push({ kind: 'op', text: op, num: 0, offset: start });
    i += op.length;
  }
  // The end points just after the last non-blank character (not at trailing newlines of a block scalar).
  out.push({ kind: 'end', text: '', num: 0, offset: src.trimEnd().length });
  return out;
}
