import type { UnitBank } from '../helpers/modbus-slave';
import { WORD_ORDER_CASES } from './word-order-cases';

/**
 * Every data type × byte order with a known value, laid out by hand from the
 * spec's byte-order convention (A = most significant byte). Returns the sensor
 * configs and the values each must read; writes the words into the bank.
 */
export function typeMatrix(bank: UnitBank, base = 100): { sensors: Record<string, unknown>[]; expected: Map<string, number | string> } {
  const layouts: { type: string; value: number | string; words: Record<string, number[]> }[] = [
    ...WORD_ORDER_CASES,
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
