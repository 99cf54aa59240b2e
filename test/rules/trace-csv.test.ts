import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceCsv } from '../../src/rules/dry-run';

test('a trace may start with comment lines before its ts,sensor,value header', () => {
  const res = parseTraceCsv('t.csv', '# furnace trace\n# ts in ms\nts,sensor,value\n0,furnace.temp,79\n1000,furnace.temp,81,bad\n');
  assert.ok(res.ok);
  assert.deepEqual(res.rows, [
    { ts: 0, sensor: 'furnace.temp', value: 79, quality: 'good' },
    { ts: 1000, sensor: 'furnace.temp', value: 81, quality: 'bad' },
  ]);
});

test('a header anywhere but first is an error with its line', () => {
  const res = parseTraceCsv('t.csv', '0,a,1\nts,sensor,value\n');
  assert.equal(res.ok, false);
  assert.deepEqual(!res.ok && res.problems.map((p) => [p.line, p.message]), [[2, 'bad timestamp "ts" (epoch ms or ISO 8601)']]);
});

test('timestamps going backwards are refused', () => {
  const res = parseTraceCsv('t.csv', '1000,a,1\n500,a,2\n');
  assert.equal(res.ok, false);
  assert.match(!res.ok ? res.problems[0].message : '', /backwards/);
});
