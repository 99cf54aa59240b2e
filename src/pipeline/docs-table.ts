import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { formatDuration } from '../core/duration';
import { STAGE_KINDS } from './stages';

/**
 * The stage reference in docs/pipeline.md, generated from the stage schemas so
 * keys, defaults and texts cannot drift from the code. A test fails when the
 * file is stale; refresh it with `npx tsx src/pipeline/docs-table.ts --write`.
 */

export const BEGIN = '<!-- generated: stage reference (npx tsx src/pipeline/docs-table.ts --write) -->';
export const END = '<!-- end generated -->';

interface Prop {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Prop[];
  items?: Prop | Prop[];
  default?: unknown;
  description?: string;
  pattern?: string;
}

function isDuration(p: Prop): boolean {
  return !!p.anyOf?.some((a) => a.type === 'string' && a.pattern !== undefined) && p.anyOf.some((a) => a.type === 'number');
}

function typeOf(p: Prop): string {
  if (isDuration(p)) return 'duration';
  if (p.enum) return p.enum.join(' | ');
  if (p.type === 'array') {
    const items = p.items;
    if (Array.isArray(items)) return `[${items.map(typeOf).join(', ')}]`;
    if (items && (items.type === 'array' || Array.isArray(items.items))) return `list of ${typeOf(items)}`;
    return `list of ${items ? typeOf(items) : 'any'}`;
  }
  return p.type ?? 'any';
}

/** The default from the zod schema itself (JSON Schema loses defaults of transformed fields such as durations). */
function defaultOf(schema: z.ZodType, key: string, p: Prop, required: boolean): string {
  if (required) return 'required';
  const field = (schema as unknown as z.ZodObject).shape[key];
  if (!(field instanceof z.ZodDefault)) return '—';
  const d: unknown = field.def.defaultValue;
  return isDuration(p) && typeof d === 'number' ? formatDuration(d) : String(d);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function stageJson(schema: z.ZodType): { description?: string; properties: Record<string, Prop>; required?: string[] } {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as never;
}

export function stageReference(): string {
  const stages = STAGE_KINDS.map((k) => {
    const j = stageJson(k.schema);
    const rows = Object.entries(j.properties)
      .filter(([key]) => key !== 'kind')
      .map(([key, p]) => ({ key, p, d: defaultOf(k.schema, key, p, j.required?.includes(key) ?? false) }));
    return { kind: k.kind, description: j.description ?? '', rows };
  });
  const lines: string[] = [BEGIN, '', '| Stage | Keys (default) | What it does |', '| --- | --- | --- |'];
  for (const s of stages) {
    const keys = s.rows.map(({ key, d }) => (d === '—' ? `\`${key}\`` : `\`${key}\` (${d})`));
    lines.push(`| \`${s.kind}\` | ${keys.join(', ')} | ${cell(s.description)} |`);
  }
  for (const s of stages) {
    lines.push('', `### \`${s.kind}\``, '', s.description, '', '| Key | Type | Default | Meaning |', '| --- | --- | --- | --- |');
    for (const { key, p, d } of s.rows) lines.push(`| \`${key}\` | ${cell(typeOf(p))} | ${cell(d)} | ${cell(p.description ?? '')} |`);
  }
  lines.push('', END);
  return lines.join('\n');
}

/** `text` with the generated block replaced by the current one. */
export function refreshed(text: string): string {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`markers not found: ${BEGIN} ... ${END}`);
  return text.slice(0, a) + stageReference() + text.slice(b + END.length);
}

if (require.main === module) {
  // Run from the repository root.
  const file = path.resolve('docs/pipeline.md');
  if (process.argv.includes('--write')) fs.writeFileSync(file, refreshed(fs.readFileSync(file, 'utf8')));
  else process.stdout.write(stageReference() + '\n');
}
