/** Hand-computed register layouts shared by the codec unit tests and the wire type matrix. */
import type { DataType, WordOrder } from '../../drivers/modbus/schema';

// Known values: IEEE 754 / two's complement bit patterns worked out by hand (and with
// Python's struct.pack as an independent check), laid out per the order convention.
export interface WordOrderCase {
  type: DataType;
  value: number;
  words: Record<WordOrder, number[]>;
}
export const WORD_ORDER_CASES: WordOrderCase[] = [
  { type: 'float32', value: Math.fround(123.456), words: { ABCD: [0x42f6, 0xe979], CDAB: [0xe979, 0x42f6], BADC: [0xf642, 0x79e9], DCBA: [0x79e9, 0xf642] } },
  { type: 'int32', value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] } },
  { type: 'uint32', value: 0xdeadbeef, words: { ABCD: [0xdead, 0xbeef], CDAB: [0xbeef, 0xdead], BADC: [0xadde, 0xefbe], DCBA: [0xefbe, 0xadde] } },
  { type: 'int16', value: -2, words: { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] } },
  { type: 'uint16', value: 0x1234, words: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
  {
    type: 'float64',
    value: -1234.5678, // 0xC0934A456D5CFAAD
    words: {
      ABCD: [0xc093, 0x4a45, 0x6d5c, 0xfaad],
      CDAB: [0xfaad, 0x6d5c, 0x4a45, 0xc093],
      BADC: [0x93c0, 0x454a, 0x5c6d, 0xadfa],
      DCBA: [0xadfa, 0x5c6d, 0x454a, 0x93c0],
    },
  },
  {
    type: 'uint64',
    value: 0x000f_0102_0304_0506, // < 2^53, exact
    words: { ABCD: [0x000f, 0x0102, 0x0304, 0x0506], CDAB: [0x0506, 0x0304, 0x0102, 0x000f], BADC: [0x0f00, 0x0201, 0x0403, 0x0605], DCBA: [0x0605, 0x0403, 0x0201, 0x0f00] },
  },
  {
    type: 'int64',
    value: -2, // 0xFFFFFFFFFFFFFFFE
    words: { ABCD: [0xffff, 0xffff, 0xffff, 0xfffe], CDAB: [0xfffe, 0xffff, 0xffff, 0xffff], BADC: [0xffff, 0xffff, 0xffff, 0xfeff], DCBA: [0xfeff, 0xffff, 0xffff, 0xffff] },
  },
];
