import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minimumRequests, planReads, splitRequest, type PlanPoint, type ReadRequest } from '../../drivers/modbus/planner';

const limits = { maxGap: 10, maxRegisters: 125, maxBits: 2000, forbidden: [] as [number, number][] };
const hr = (address: number, words = 1): PlanPoint => ({ register: 'holding', address, words });
const shape = (reqs: ReadRequest[]) => reqs.map((r) => [r.register, r.start, r.count, r.points.length]);

test('40 points in 3 clusters become 3 reads', () => {
  const pts = [
    ...Array.from({ length: 15 }, (_, i) => hr(i * 2, 2)), // 0..29 float32s
    ...Array.from({ length: 15 }, (_, i) => hr(1000 + i)), // 1000..1014
    ...Array.from({ length: 10 }, (_, i) => hr(5000 + i * 4, 4)), // 5000..5039 float64s
  ];
  assert.deepEqual(shape(planReads(pts, limits)), [
    ['holding', 0, 30, 15],
    ['holding', 1000, 15, 15],
    ['holding', 5000, 40, 10],
  ]);
});

test('gaps up to maxGap are spanned, larger gaps start a new read', () => {
  // 0 ends at 1; 11 leaves a gap of exactly 10 (1..10); 23 leaves a gap of 11 (12..22)
  assert.deepEqual(shape(planReads([hr(0), hr(11), hr(23)], limits)), [
    ['holding', 0, 12, 2],
    ['holding', 23, 1, 1],
  ]);
});

test('a read never exceeds maxRegisters, nor the protocol limits of 125 registers and 2000 bits', () => {
  const pts = Array.from({ length: 130 }, (_, i) => hr(i));
  assert.deepEqual(shape(planReads(pts, limits)), [
    ['holding', 0, 125, 125],
    ['holding', 125, 5, 5],
  ]);
  assert.deepEqual(shape(planReads(pts, { ...limits, maxRegisters: 50 })).map((s) => s[2]), [50, 50, 30]);
  const coils: PlanPoint[] = Array.from({ length: 2001 }, (_, i) => ({ register: 'coil', address: i, words: 1 }));
  assert.deepEqual(shape(planReads(coils, limits)), [
    ['coil', 0, 2000, 2000],
    ['coil', 2000, 1, 1],
  ]);
});

test('data tables are never mixed', () => {
  const pts: PlanPoint[] = [hr(0), { register: 'input', address: 1, words: 1 }, { register: 'coil', address: 2, words: 1 }, hr(2)];
  assert.deepEqual(shape(planReads(pts, limits)), [
    ['coil', 2, 1, 1],
    ['input', 1, 1, 1],
    ['holding', 0, 3, 2],
  ]);
});

test('a read never spans a forbidden range, and a point inside one is read alone', () => {
  const forbidden: [number, number][] = [[5, 6]];
  // 0 and 8 would merge across 5..6: split. 
  assert.deepEqual(shape(planReads([hr(0), hr(8), hr(9)], { ...limits, forbidden })), [
    ['holding', 0, 1, 1],
    ['holding', 8, 2, 2],
  ]);
  // A point at 5 overlaps the forbidden range: isolated; its neighbours 3 and 4 still merge.
  assert.deepEqual(shape(planReads([hr(3), hr(4), hr(5), hr(7)], { ...limits, forbidden })), [
    ['holding', 3, 2, 2],
    ['holding', 5, 1, 1],
    ['holding', 7, 1, 1],
  ]);
});

test('overlapping points (bits of one register) share the register', () => {
  assert.deepEqual(shape(planReads([hr(4), hr(4), hr(4, 2)], limits)), [['holding', 4, 2, 3]]);
});

test('splitRequest halves a request by points and trims each half', () => {
  const [req] = planReads([hr(0), hr(1), hr(5), hr(9, 2)], limits);
  const halves = splitRequest(req);
  assert.ok(halves);
  assert.deepEqual(shape(halves), [
    ['holding', 0, 2, 2],
    ['holding', 5, 6, 2],
  ]);
  assert.equal(splitRequest({ register: 'holding', start: 0, count: 1, points: [hr(0)] }), undefined);
});

test('minimumRequests ignores maxGap but keeps size limits and forbidden ranges', () => {
  assert.equal(minimumRequests([hr(0), hr(100)], { maxRegisters: 125, maxBits: 2000, forbidden: [] }), 1);
  assert.equal(minimumRequests([hr(0), hr(200)], { maxRegisters: 125, maxBits: 2000, forbidden: [] }), 2);
  assert.equal(minimumRequests([hr(0), hr(100)], { maxRegisters: 125, maxBits: 2000, forbidden: [[50, 50]] }), 2);
});
