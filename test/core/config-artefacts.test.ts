import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile, parseConfig } from '../../src/config/load';
import { configJsonSchema } from '../../src/config/schema';

const ROOT = path.resolve(__dirname, '../..');

test('config/gateway.schema.json is the schema generated from the zod schema (run npm run schema)', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(ROOT, 'config/gateway.schema.json'), 'utf8')) as unknown;
  assert.deepEqual(committed, JSON.parse(JSON.stringify(configJsonSchema())));
});

// The demo runs as it is; the example names site files (password, CA) that exist only on a
// configured gateway, so it is checked for schema and cross-references only
// (test/core/config-files.test.ts checks what it reports about those files).
for (const [file, load] of [
  ['config/demo.yaml', loadConfigFile],
  ['config/gateway.example.yaml', (f: string) => parseConfig(f, fs.readFileSync(f, 'utf8'))],
] as const) {
  test(`${file} is a valid config`, () => {
    const res = load(path.join(ROOT, file));
    assert.ok(res.ok, res.ok ? '' : res.problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('\n'));
  });
}
