import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegisters, encodeString, encodeValue, wordCount } from '../../drivers/modbus/codec';
import type { WordOrder } from '../../drivers/modbus/schema';
import { WORD_ORDER_CASES } from './word-order-cases';


for (const c of WORD_ORDER_CASES) {
  for (const order of Object.keys(c.words) as WordOrder[]) {
    test(`${c.type} ${c.value} ${order} decodes from and encodes to the spec layout`, () => {
      assert.equal(decodeRegisters(c.words[order], { type: c.type, order }), c.value);
      assert.deepEqual(encodeValue(c.value, { type: c.type, order }), c.words[order]);
    });
  }
}

test('bool from a register reads the configured bit', () => {
  assert.equal(decodeRegisters([0b1000_0000_0000_0100], { type: 'bool', order: 'ABCD', bit: 2 }), 1);
  assert.equal(decodeRegisters([0b1000_0000_0000_0100], { type: 'bool', order: 'ABCD', bit: 3 }), 0);
  assert.equal(decodeRegisters([0b1000_0000_0000_0100], { type: 'bool', order: 'ABCD', bit: 15 }), 1);
});

test('string: two ASCII characters per register, NUL-terminated, byte order respected', () => {
  // "AB" = 0x41 0x42, "C\0" = 0x43 0x00
  assert.equal(decodeRegisters([0x4142, 0x4300, 0x5858], { type: 'string', order: 'ABCD', length: 3 }), 'ABC');
  assert.equal(decodeRegisters([0x4241, 0x0043], { type: 'string', order: 'BADC', length: 2 }), 'ABC');
  assert.equal(decodeRegisters([0x4142, 0x2020], { type: 'string', order: 'ABCD', length: 2 }), 'AB');
  assert.deepEqual(encodeString('ABC', 3, 'ABCD'), [0x4142, 0x4300, 0x0000]);
});

test('word counts per type', () => {
  assert.deepEqual(
    (['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'int64', 'uint64', 'float64'] as const).map((type) => wordCount({ type })),
    [1, 1, 1, 2, 2, 2, 4, 4, 4],
  );
  assert.equal(wordCount({ type: 'string', length: 5 }), 5);
});

test('encoding an out-of-range integer throws instead of wrapping', () => {
  assert.throws(() => encodeValue(70000, { type: 'uint16', order: 'ABCD' }), RangeError);
  assert.throws(() => encodeValue(1.5, { type: 'int32', order: 'ABCD' }), RangeError);
  assert.throws(() => decodeRegisters([1], { type: 'int32', order: 'ABCD' }), RangeError);
});
