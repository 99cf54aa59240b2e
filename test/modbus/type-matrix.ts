import type { UnitBank } from '../helpers/modbus-slave';

/**
 * Every data type × byte order with a known value, laid out by hand from the
 * spec's byte-order convention (A = most significant byte). Returns the sensor
 * configs and the values each must read; writes the words into the bank.
 */
export function typeMatrix(bank: UnitBank, base = 100): { sensors: Record<string, unknown>[]; expected: Map<string, number | string> } {
  const layouts: { type: string; value: number | string; words: Record<string, number[]> }[] = [
    { type: 'float32', value: Math.fround(123.456), words: { ABCD: [0x42f6, 0xe979], CDAB: [0xe979, 0x42f6], BADC: [0xf642, 0x79e9], DCBA: [0x79e9, 0xf642] } },
    { type: 'int32', value: -123456789, words: { ABCD: [0xf8a4, 0x32eb], CDAB: [0x32eb, 0xf8a4], BADC: [0xa4f8, 0xeb32], DCBA: [0xeb32, 0xa4f8] } },
    { type: 'uint32', value: 0xdeadbeef, words: { ABCD: [0xdead, 0xbeef], CDAB: [0xbeef, 0xdead], BADC: [0xadde, 0xefbe], DCBA: [0xefbe, 0xadde] } },
    { type: 'int16', value: -2, words: { ABCD: [0xfffe], CDAB: [0xfffe], BADC: [0xfeff], DCBA: [0xfeff] } },
    { type: 'uint16', value: 0x1234, words: { ABCD: [0x1234], CDAB: [0x1234], BADC: [0x3412], DCBA: [0x3412] } },
    {
      type: 'float64',
      value: -1234.5678,
      words: { ABCD: [0xc093, 0x4a45, 0x6d5c, 0xfaad], CDAB: [0xfaad, 0x6d5c, 0x4a45, 0xc093], BADC: [0x93c0, 0x454a, 0x5c6d, 0xadfa], DCBA: [0xadfa, 0x5c6d, 0x454a, 0x93c0] },
    },
    {
      type: 'int64',
      value: -2,
      words: { ABCD: [0xffff, 0xffff, 0xffff, 0xfffe], CDAB: [0xfffe, 0xffff, 0xffff, 0xffff], BADC: [0xffff, 0xffff, 0xffff, 0xfeff], DCBA: [0xfeff, 0xffff, 0xffff, 0xffff] },
    },
    {
      type: 'uint64',
      value: 0x000f_0102_0304_0506,
      words: { ABCD: [0x000f, 0x0102, 0x0304, 0x0506], CDAB: [0x0506, 0x0304, 0x0102, 0x000f], BADC: [0x0f00, 0x0201, 0x0403, 0x0605], DCBA: [0x0605, 0x0403, 0x0201, 0x0f00] },
    },
    { type: 'string', value: 'PUMP-7', words: { ABCD: [0x5055, 0x4d50, 0x2d37], CDAB: [0x2d37, 0x4d50, 0x5055], BADC: [0x5550, 0x504d, 0x372d], DCBA: [0x372d, 0x504d, 0x5550] } },
  ];
  const sensors: Record<string, unknown>[] = [];
  const expected = new Map<string, number | string>();
  let addr = base;
  for (const l of layouts) {
    for (const [order, words] of Object.entries(l.words)) {
      const id = `${l.type}.${order}`;
      sensors.push({ id, register: 'holding', address: addr, type: l.type, order, ...(l.type === 'string' ? { length: words.length } : {}) });
      words.forEach((w, i) => (bank.holding[addr + i] = w));
      expected.set(id, l.value);
      addr += words.length + 1;
    }
  }
  // bits: a coil, a discrete input, bit 3 of an input register
  bank.coils[7] = 1;
  bank.discrete[9] = 1;
  bank.input[11] = 0b1000;
  sensors.push({ id: 'coil7', register: 'coil', address: 7 }, { id: 'di9', register: 'discrete', address: 9 }, { id: 'ir11.bit3', register: 'input', address: 11, type: 'bool', bit: 3 });
  expected.set('coil7', 1).set('di9', 1).set('ir11.bit3', 1);
  // scale and offset: raw 250 × 0.1 − 5 = 20
  bank.input[20] = 250;
  sensors.push({ id: 'scaled', register: 'input', address: 20, scale: 0.1, offset: -5 });
  expected.set('scaled', 20);
  return { sensors, expected };
}
