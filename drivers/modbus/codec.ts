import type { DataType, WordOrder } from './schema';

/**
 * Pure conversion between 16-bit register words and values.
 *
 * Byte orders name the bytes of the value, A most significant, as they appear
 * on the wire register by register (Telegraf's convention):
 *   32-bit value 0xAABBCCDD     ABCD [AABB, CCDD]  CDAB [CCDD, AABB]  BADC [BBAA, DDCC]  DCBA [DDCC, BBAA]
 *   64-bit ABCDEFGH             ABCD [AB,CD,EF,GH] CDAB [GH,EF,CD,AB] BADC [BA,DC,FE,HG] DCBA [HG,FE,DC,BA]
 *   16-bit                      ABCD and CDAB [AB]; BADC and DCBA [BA]
 * So CDAB and DCBA reverse the order of the words, BADC and DCBA swap the bytes
 * inside each word. Both are involutions, so encode uses the same steps.
 */

export interface PointShape {
  type: DataType;
  order: WordOrder;
  /** bool on a register: the bit, 0 = least significant. */
  bit?: number;
  /** string: number of registers. */
  length?: number;
}

/** Number of registers a value of this type occupies (1 for bits and bools). */
export function wordCount(p: Pick<PointShape, 'type' | 'length'>): number {
  switch (p.type) {
    case 'bool':
    case 'int16':
    case 'uint16':
      return 1;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 2;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 4;
    case 'string':
      return p.length ?? 1;
  }
}

const wordsReversed = (o: WordOrder) => o === 'CDAB' || o === 'DCBA';
const bytesSwapped = (o: WordOrder) => o === 'BADC' || o === 'DCBA';

/** Registers in wire order → big-endian bytes (A first). */
export function wordsToBytes(words: readonly number[], order: WordOrder): Buffer {
  const ws = wordsReversed(order) ? [...words].reverse() : words;
  const buf = Buffer.alloc(ws.length * 2);
  ws.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new RangeError(`register value ${w} is not a 16-bit word`);
    if (bytesSwapped(order)) buf.writeUInt16LE(w, i * 2);
    else buf.writeUInt16BE(w, i * 2);
  });
  return buf;
}

/** Big-endian bytes (A first) → registers in wire order. */
export function bytesToWords(buf: Buffer, order: WordOrder): number[] {
  const ws: number[] = [];
  for (let i = 0; i < buf.length; i += 2) ws.push(bytesSwapped(order) ? buf.readUInt16LE(i) : buf.readUInt16BE(i));
  return wordsReversed(order) ? ws.reverse() : ws;
}

/**
 * A one-register point (bool, uint16, int16) from its word: the common case, without an
 * array or a Buffer per value; BADC/DCBA swap the register's bytes.
 */
export function decodeWord(w: number, p: PointShape): number {
  if (p.type === 'bool') return (w >> (p.bit ?? 0)) & 1;
  if (p.type !== 'uint16' && p.type !== 'int16') throw new RangeError(`${p.type} needs ${wordCount(p)} register(s), got 1`);
  if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new RangeError(`register value ${w} is not a 16-bit word`);
  const v = bytesSwapped(p.order) ? ((w & 0xff) << 8) | (w >> 8) : w;
  return p.type === 'int16' ? (v << 16) >> 16 : v;
}

/**
 * Decode a value from its registers (exactly wordCount(p) words). bool → 0 or 1;
 * 64-bit integers become numbers (exact up to 2^53); strings stop at the first NUL
 * and lose trailing spaces.
 */
export function decodeRegisters(words: readonly number[], p: PointShape): number | string {
  if (words.length !== wordCount(p)) throw new RangeError(`${p.type} needs ${wordCount(p)} register(s), got ${words.length}`);
  if (p.type === 'bool' || p.type === 'uint16' || p.type === 'int16') return decodeWord(words[0], p);
  const b = wordsToBytes(words, p.order);
  switch (p.type) {
    case 'int32':
      return b.readInt32BE(0);
    case 'uint32':
      return b.readUInt32BE(0);
    case 'float32':
      return b.readFloatBE(0);
    case 'int64':
      return Number(b.readBigInt64BE(0));
    case 'uint64':
      return Number(b.readBigUInt64BE(0));
    case 'float64':
      return b.readDoubleBE(0);
    case 'string': {
      const nul = b.indexOf(0);
      return b.subarray(0, nul < 0 ? b.length : nul).toString('latin1').replace(/ +$/, '');
    }
  }
}

/** Encode a numeric value to registers in wire order. Integers are range-checked. */
export function encodeValue(value: number, p: PointShape): number[] {
  const b = Buffer.alloc(wordCount(p) * 2);
  const int = (min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${value} does not fit ${p.type}`);
    return value;
  };
  switch (p.type) {
    case 'bool':
      return [value ? 1 : 0];
    case 'int16':
      b.writeInt16BE(int(-0x8000, 0x7fff));
      break;
    case 'uint16':
      b.writeUInt16BE(int(0, 0xffff));
      break;
    case 'int32':
      b.writeInt32BE(int(-0x80000000, 0x7fffffff));
      break;
    case 'uint32':
      b.writeUInt32BE(int(0, 0xffffffff));
      break;
    case 'float32':
      b.writeFloatBE(value);
      break;
    case 'int64':
      b.writeBigInt64BE(BigInt(int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)));
      break;
    case 'uint64':
      b.writeBigUInt64BE(BigInt(int(0, Number.MAX_SAFE_INTEGER)));
      break;
    case 'float64':
      b.writeDoubleBE(value);
      break;
    case 'string':
      throw new RangeError('cannot encode a number as a string');
  }
  return bytesToWords(b, p.order);
}

/** Encode a string into `length` registers (latin1, NUL-padded). */
export function encodeString(value: string, length: number, order: WordOrder): number[] {
  const b = Buffer.alloc(length * 2);
  b.write(value.slice(0, length * 2), 'latin1');
  return bytesToWords(b, order);
}
