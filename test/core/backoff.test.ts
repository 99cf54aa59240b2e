import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/core/backoff';

test('backoff caps grow as initial * 2^attempt up to max (full jitter at random=1)', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000]);
  b.reset();
  assert.equal(b.next(), 100);
});

test('backoff with random=0 and a floor returns the floor', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, minMs: 50, random: () => 0 });
  assert.equal(b.next(), 50);
  assert.equal(b.attempts, 1);
});
