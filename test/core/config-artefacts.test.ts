import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { configJsonSchema } from '../../src/config/schema';

const ROOT = path.resolve(__dirname, '../..');

test('config/gateway.schema.json is the schema generated from the zod schema (run npm run schema)', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/gateway.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, JSON.parse(JSON.stringify(configJsonSchema())));
});

for (const file of ['config/demo.yaml', 'config/gateway.example.yaml']) {
  test(`${file} is a valid config`, () => {
    const res = loadConfigFile(path.join(ROOT, file));
    assert.ok(res.ok, res.ok ? '' : res.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  });
}
