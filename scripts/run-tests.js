#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in test runner, compiled on the
// fly by tsx (type errors are caught by `tsc` earlier in `npm test`).
// Usage: node scripts/run-tests.js [substring-filter ...]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
function walk(dir, out) {
  for (const ent of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, ent.name);
    if (ent.isDirectory()) walk(p, out);
    else if (ent.name.endsWith('.test.ts')) out.push(path.relative(root, p));
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(path.join(root, 'test'), [])
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FIELDGATE_TEST: '1' } },
);
process.exit(res.status ?? 1);
