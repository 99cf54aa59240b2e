import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeGattValue, parseGattValue } from '../../drivers/ble/gatt-value';

const codec = (type: string, endian: string, scale = 1, offset = 0) => ({ type, endian, scale, offset }) as Parameters<typeof parseGattValue>[1];

test('parse: signed/unsigned, endianness, offset, scale, float32', () => {
  assert.equal(parseGattValue(Buffer.from('fe', 'hex'), codec('int8', 'little')), -2);
  assert.equal(parseGattValue(Buffer.from('fe', 'hex'), codec('uint8', 'little')), 254);
  assert.equal(parseGattValue(Buffer.from('2909', 'hex'), codec('int16', 'little', 0.01)), 23.45);
  assert.equal(parseGattValue(Buffer.from('0929', 'hex'), codec('uint16', 'big')), 2345);
  assert.equal(parseGattValue(Buffer.from('00 ffffffff'.replace(' ', ''), 'hex'), codec('int32', 'little', 1, 1)), -1);
  assert.equal(parseGattValue(Buffer.from('ffffffff', 'hex'), codec('uint32', 'big')), 4294967295);
  assert.equal(parseGattValue(Buffer.from('0000c03f', 'hex'), codec('float32', 'little')), 1.5); // IEEE 754 1.5 = 0x3FC00000
  assert.throws(() => parseGattValue(Buffer.from('01', 'hex'), codec('int16', 'little')), /too short for int16 at offset 0/);
});

test('encode: scale, rounding, byte order and range checks', () => {
  assert.equal(encodeGattValue(21.5, codec('uint16', 'big', 0.1)).toString('hex'), '00d7');
  assert.equal(encodeGattValue(-2, codec('int16', 'little')).toString('hex'), 'feff');
  assert.equal(encodeGattValue(1.5, codec('float32', 'big')).toString('hex'), '3fc00000');
  assert.throws(() => encodeGattValue(256, codec('uint8', 'little')), /does not fit uint8/);
  assert.throws(() => encodeGattValue(-1, codec('uint32', 'little')), /does not fit uint32/);
});
