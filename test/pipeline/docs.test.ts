import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load';
import { configJsonSchema } from '../../src/config/schema';
import { formatProblem } from '../../src/config/yaml-source';
import { refreshed } from '../../src/pipeline/docs-table';
import { pipelineConfigSchema, STAGE_KINDS } from '../../src/pipeline/stages';

const root = path.resolve(__dirname, '../..');
const doc = fs.readFileSync(path.join(root, 'docs/pipeline.md'), 'utf8');

test('docs/pipeline.md stage reference matches the stage schemas', () => {
  assert.ok(doc === refreshed(doc), 'docs/pipeline.md is stale: run `npx tsx src/pipeline/docs-table.ts --write`');
});

test('the example config in docs/pipeline.md loads without problems', () => {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(yaml, 'no ```yaml block');
  const res = parseConfig('docs/pipeline.md', yaml);
  assert.ok(res.ok, res.ok ? '' : res.problems.map(formatProblem).join('\n'));
  const pressure = res.value.sensors.find((s) => s.id === 'boiler.pressure');
  // The golden case docs-example-boiler-pressure runs this same pipeline.
  const golden = pipelineConfigSchema.parse(parse(fs.readFileSync(path.join(__dirname, 'cases/docs-example-boiler-pressure/pipeline.yaml'), 'utf8')));
  assert.deepEqual(pressure?.pipeline, golden);
});

test('the gateway JSON Schema covers every stage kind', () => {
  const text = JSON.stringify(configJsonSchema());
  for (const { kind } of STAGE_KINDS) assert.ok(text.includes(`"const":"${kind}"`), kind);
});
