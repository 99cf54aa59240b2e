import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { parseRuleTexts } from '../../src/rules/load';
import { formatProblem } from '../../src/config/yaml-source';
import { main } from '../../src/cli/main';

const ROOT = path.resolve(__dirname, '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function yamlBlocks(md: string): string[] {
  return [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
}

test('the rule examples in the README are valid against the demo config', () => {
  const demo = loadConfigFile(path.join(ROOT, 'config/demo.yaml'));
  assert.ok(demo.ok);
  const blocks = yamlBlocks(README).filter((b) => b.startsWith('rules:'));
  assert.ok(blocks.length >= 1);
  const res = parseRuleTexts(
    blocks.map((text, i) => ({ file: `README.md#rules-${i}`, text })),
    { sensors: new Set(demo.value.sensors.map((s) => s.id)), actuators: new Map(demo.value.config.actuators.map((a) => [a.id, a])) },
  );
  assert.ok(res.ok, res.ok ? '' : res.problems.map(formatProblem).join('\n'));
});

test('every command the README lists exists in the CLI', async () => {
  let help = '';
  const io = { out: (t: string) => (help += t), err: () => undefined, isTTY: false, env: {}, confirm: async () => false };
  await main(['--help'], io);
  const cli = README.slice(README.indexOf('## Field diagnostics CLI'));
  const listed = new Set([...cli.matchAll(/fieldgate ([a-z]+)/g)].map((m) => m[1]));
  for (const cmd of listed) assert.match(help, new RegExp(`\\n  ${cmd} `), `fieldgate ${cmd} is in --help`);
});
