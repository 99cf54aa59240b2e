import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatProblem, YamlSource } from '../../src/config/yaml-source';
import { zodProblems } from '../../src/config/zod-problems';
import type { Quality, Reading, ReadingValue } from '../../src/core/reading';
import { Pipeline } from '../../src/pipeline/pipeline';
import { pipelineConfigSchema } from '../../src/pipeline/stages';
import { context } from './helpers';

/**
 * Golden cases: every folder under test/pipeline/cases/ is one test. The format
 * is described in test/pipeline/cases/README.md; adding a case needs no TypeScript.
 */
const CASES = path.join(__dirname, 'cases');
const SENSOR = 'sensor';
const FLUSH = '<flush>';
const QUALITIES: readonly string[] = ['good', 'uncertain', 'bad'];

interface Row {
  line: number;
  ts: number;
  value: ReadingValue;
  quality: Quality;
  sensor: string;
}

function parseTs(s: string, where: string): number {
  const n = /^-?\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) throw new Error(`${where}: ts "${s}" is neither epoch milliseconds nor an ISO-8601 time`);
  return n;
}

function parseValue(s: string): ReadingValue {
  if (s === 'NaN') return NaN;
  if (s === 'Infinity' || s === '+Infinity') return Infinity;
  if (s === '-Infinity') return -Infinity;
  return s !== '' && Number.isFinite(Number(s)) ? Number(s) : s;
}

/** A CSV with a header row; `#` lines and blank lines are skipped; no quoting. */
function readCsv(file: string): Row[] {
  const name = path.relative(CASES, file);
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  const rows: Row[] = [];
  let header: string[] | undefined;
  lines.forEach((text, i) => {
    const where = `${name}:${i + 1}`;
    if (text.trim() === '' || text.trimStart().startsWith('#')) return;
    const cells = text.split(',').map((c) => c.trim());
    if (!header) {
      header = cells;
      for (const need of ['ts', 'value']) if (!header.includes(need)) throw new Error(`${where}: header needs a "${need}" column (got ${text})`);
      const unknown = header.filter((h) => !['ts', 'value', 'quality', 'sensor'].includes(h));
      if (unknown.length) throw new Error(`${where}: unknown columns ${unknown.join(', ')} (ts, value, quality, sensor)`);
      return;
    }
    const cell = (col: string) => cells[header!.indexOf(col)] ?? '';
    const quality = cell('quality') || 'good';
    if (!QUALITIES.includes(quality)) throw new Error(`${where}: quality "${quality}" is not good, uncertain or bad`);
    rows.push({ line: i + 1, ts: parseTs(cell('ts'), where), value: parseValue(cell('value')), quality: quality as Quality, sensor: cell('sensor') || SENSOR });
  });
  if (!header) throw new Error(`${name}: empty (needs a header row such as "ts,value,quality")`);
  return rows;
}

function same(a: ReadingValue, b: ReadingValue): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
  }
  return a === b;
}

const show = (rows: { ts: number; value: ReadingValue; quality: Quality }[]) => rows.map((x) => `${x.ts},${x.value},${x.quality}`).join('\n') || '(no output)';

function runCase(dir: string): void {
  const yamlFile = path.join(dir, 'pipeline.yaml');
  const errorFile = path.join(dir, 'expected-error.txt');
  const expectedFile = path.join(dir, 'expected.csv');
  const src = new YamlSource(path.relative(CASES, yamlFile), fs.readFileSync(yamlFile, 'utf8'));
  const parsed = pipelineConfigSchema.safeParse(src.toJS());
  const problems = src.syntaxProblems();
  if (problems.length === 0 && !parsed.success) problems.push(...zodProblems(src, parsed.error));
  if (fs.existsSync(errorFile)) {
    assert.ok(problems.length > 0, 'expected-error.txt is present but pipeline.yaml is valid');
    const text = problems.map(formatProblem).join('\n');
    for (const want of fs.readFileSync(errorFile, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '')) {
      assert.ok(text.includes(want.trim()), `expected an error containing\n  ${want.trim()}\ngot\n  ${text.replace(/\n/g, '\n  ')}`);
    }
    return;
  }
  assert.deepEqual(problems.map(formatProblem), [], 'pipeline.yaml is invalid (add expected-error.txt if that is the point)');
  assert.ok(fs.existsSync(expectedFile), 'a case needs expected.csv or expected-error.txt');
  if (!parsed.success) return;

  const latest: Record<string, Reading> = {};
  const pipeline = new Pipeline(parsed.data, context(latest, SENSOR));
  const actual: Reading[] = [];
  for (const row of readCsv(path.join(dir, 'input.csv'))) {
    if (row.value === FLUSH) actual.push(...pipeline.flush(row.ts));
    else if (row.sensor !== SENSOR) latest[row.sensor] = { sensor: row.sensor, ts: row.ts, value: row.value, quality: row.quality, flags: 0 };
    else {
      const out = pipeline.process({ sensor: SENSOR, ts: row.ts, value: row.value, quality: row.quality, flags: 0 });
      if (out) actual.push({ ...out });
    }
  }
  const expected = readCsv(expectedFile);
  const ok = actual.length === expected.length && expected.every((e, i) => e.ts === actual[i].ts && e.quality === actual[i].quality && same(actual[i].value, e.value));
  assert.ok(ok, `output differs from expected.csv\n--- expected\n${show(expected)}\n--- actual\n${show(actual)}`);
}

const cases = fs
  .readdirSync(CASES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('there are golden pipeline cases', () => assert.ok(cases.length >= 8, `only ${cases.length} cases in ${CASES}`));

for (const name of cases) test(`golden: ${name}`, () => runCase(path.join(CASES, name)));
