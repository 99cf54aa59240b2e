import type { SensorEnv } from './expr/env';
import { ExprError } from './expr/lexer';

/**
 * An event message with `{sensor.id}` placeholders, compiled once per load:
 * "Furnace over temperature: {furnace.temp} °C". `{{` and `}}` are literal braces.
 * Rendering allocates a string, which is fine: events are rare.
 */
export interface Template {
  render(env: SensorEnv): string;
}

export function compileTemplate(text: string, env: SensorEnv, isKnownSensor: (id: string) => boolean): Template {
  const parts: (string | number)[] = [];
  let lit = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      lit += c;
      i++;
      continue;
    }
    if (c === '}') throw new ExprError('unmatched "}" (write }} for a literal brace)', i);
    if (c !== '{') {
      lit += c;
      continue;
    }
    const close = text.indexOf('}', i);
    if (close < 0) throw new ExprError('unterminated "{" placeholder (write {{ for a literal brace)', i);
    const id = text.slice(i + 1, close).trim();
    if (!isKnownSensor(id)) throw new ExprError(`unknown sensor "${id}" in message`, i + 1);
    if (lit) parts.push(lit);
    lit = '';
    parts.push(env.slot(id));
    i = close;
  }
  if (lit) parts.push(lit);
  return {
    render: (e) => parts.map((p) => (typeof p === 'string' ? p : formatValue(e.values[p]))).join(''),
  };
}

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isNaN(v)) return 'n/a';
  return String(Math.round(v * 1000) / 1000);
}
