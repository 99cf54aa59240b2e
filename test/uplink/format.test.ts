import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchEncoder, decodeBatch, encodeBatch, storedReadingSource } from '../../src/uplink/batch-format';
import type { StoredReading } from '../../src/outbox/types';
import { uplinkTopics } from '../../src/uplink/topics';

test('data batch: [sensor, ts, value, q, flags], REPLAYED added up to the given seq, non-finite as null', () => {
  const rows = [
    { seq: 7, sensor: 'a', ts: 100, value: 1.5, quality: 'good' as const, flags: 2 },
    { seq: 8, sensor: 'b', ts: 101, value: 'ON', quality: 'uncertain' as const, flags: 0 },
    { seq: 9, sensor: 'c', ts: 102, value: Number.NaN, quality: 'bad' as const, flags: 0 },
  ];
  const text = encodeBatch('gw1', rows, 8).toString();
  assert.equal(text, '{"v":1,"gw":"gw1","r":[["a",100,1.5,0,3],["b",101,"ON",1,1],["c",102,null,2,0]]}');
  assert.equal(decodeBatch(text).r.length, 3);
  assert.throws(() => decodeBatch('{"v":2}'));
});

test('data batch: a text value outside ASCII is sent as UTF-8, the same bytes as JSON.stringify', () => {
  const rows = [
    { seq: 1, sensor: 'a', ts: 100, value: 21.5, quality: 'good' as const, flags: 0 },
    { seq: 2, sensor: 'mode', ts: 100, value: 'Füllen 25 °C ✓', quality: 'good' as const, flags: 0 },
  ];
  const bytes = encodeBatch('gw1', rows, 0);
  const expected = JSON.stringify({ v: 1, gw: 'gw1', r: rows.map((r) => [r.sensor, r.ts, r.value, 0, 0]) });
  assert.deepEqual(bytes, Buffer.from(expected, 'utf8'));
  assert.equal(decodeBatch(bytes).r[1][2], 'Füllen 25 °C ✓');
  // All ASCII (one byte a character either way): still exactly the UTF-8 bytes.
  assert.deepEqual(encodeBatch('gw1', rows.slice(0, 1), 0), Buffer.from(JSON.stringify({ v: 1, gw: 'gw1', r: [['a', 100, 21.5, 0, 0]] })));
});

test('data batch: one encoder, a 3 000-reading batch of mixed ids, values and flags, then a small one: each the bytes of JSON.stringify', () => {
  const expected = (rows: StoredReading[], replayedUpTo: number) =>
    Buffer.from(JSON.stringify({ v: 1, gw: 'gw-ü', r: rows.map((r) => [r.sensor, r.ts, Number.isFinite(r.value) || typeof r.value === 'string' ? r.value : null, { good: 0, uncertain: 1, bad: 2 }[r.quality], r.seq <= replayedUpTo ? r.flags | 1 : r.flags]) }), 'utf8');
  const encoder = new BatchEncoder('gw-ü');
  // 3 000 readings, every fourth a 40-character text with non-ASCII, ids ASCII and not, ts shared in pairs.
  const big: StoredReading[] = Array.from({ length: 3000 }, (_, i) => ({
    seq: i + 1,
    sensor: i % 7 === 0 ? `zone-${i % 5}-Süd` : `meter${i % 50}.r${i % 20}`,
    ts: 1_700_000_000_000 + Math.floor(i / 2),
    value: i % 4 === 0 ? `state ${i} — Überdruck ✓ ${'x'.repeat(20)}` : i % 11 === 0 ? Number.POSITIVE_INFINITY : i * 0.001 - 1,
    quality: (['good', 'uncertain', 'bad'] as const)[i % 3],
    flags: i % 3 === 0 ? 2 : 0,
  }));
  const bytes = encoder.encode(storedReadingSource(big), 1500);
  assert.ok(bytes.length > 64 * 1024, `${bytes.length} bytes`);
  assert.deepEqual(bytes, expected(big, 1500));
  const small = big.slice(1, 4);
  const second = encoder.encode(storedReadingSource(small), 0);
  assert.deepEqual(second, expected(small, 0));
  assert.deepEqual(bytes, expected(big, 1500), 'a returned message is not changed by the next batch');
});

test('data batch: sensors by outbox key; a key of another outbox (key space) is not taken for the name cached under it', () => {
  const rows = (names: string[], space: object) => ({
    ...storedReadingSource(names.map((sensor, i) => ({ seq: i + 1, sensor, ts: 1_700_000_000_000, value: i, quality: 'good' as const, flags: 0 }))),
    // Key = index of the name in this outbox's own list (as an outbox's interned ids are).
    sensorKey: (i: number) => [...new Set(names)].indexOf(names[i]),
    keySpace: space,
  });
  const sensors = (buf: Buffer) => decodeBatch(buf).r.map((r) => r[0]);
  const encoder = new BatchEncoder('gw');
  const a = {};
  assert.deepEqual(sensors(encoder.encode(rows(['p1', 'p2', 'p1', 'Süd'], a), 0)), ['p1', 'p2', 'p1', 'Süd']);
  assert.deepEqual(sensors(encoder.encode(rows(['p1', 'p2', 'Süd'], a), 0)), ['p1', 'p2', 'Süd'], 'same outbox, keys cached');
  // Another outbox (a recreated file): key 0 is now q9.
  assert.deepEqual(sensors(encoder.encode(rows(['q9', 'p1'], {}), 0)), ['q9', 'p1']);
});

test('topics: commands are exactly one level below cmd/; results are not commands', () => {
  const tp = uplinkTopics('fieldgate', 'gw1');
  assert.equal(tp.status, 'fieldgate/gw1/status');
  assert.equal(tp.commandFilter, 'fieldgate/gw1/cmd/+');
  assert.equal(tp.actuatorOf('fieldgate/gw1/cmd/valve1'), 'valve1');
  assert.equal(tp.actuatorOf('fieldgate/gw1/cmd/valve1/result'), undefined);
  assert.equal(tp.actuatorOf('fieldgate/gw1/cmd/'), undefined);
  assert.equal(tp.actuatorOf('fieldgate/gw2/cmd/valve1'), undefined);
  assert.equal(tp.commandResult('valve1'), 'fieldgate/gw1/cmd/valve1/result');
});
