import type { ValueCodec } from './schema';

const SIZE: Record<ValueCodec['type'], number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4 };

/** Parse a characteristic value: raw number at `offset` × scale. Throws a clear error when too short. */
export function parseGattValue(data: Buffer, codec: ValueCodec): number {
  const size = SIZE[codec.type];
  if (data.length < codec.offset + size) {
    throw new Error(`characteristic value of ${data.length} byte(s) is too short for ${codec.type} at offset ${codec.offset}`);
  }
  const le = codec.endian === 'little';
  const o = codec.offset;
  let raw: number;
  switch (codec.type) {
    case 'int8': raw = data.readInt8(o); break;
    case 'uint8': raw = data.readUInt8(o); break;
    case 'int16': raw = le ? data.readInt16LE(o) : data.readInt16BE(o); break;
    case 'uint16': raw = le ? data.readUInt16LE(o) : data.readUInt16BE(o); break;
    case 'int32': raw = le ? data.readInt32LE(o) : data.readInt32BE(o); break;
    case 'uint32': raw = le ? data.readUInt32LE(o) : data.readUInt32BE(o); break;
    case 'float32': raw = le ? data.readFloatLE(o) : data.readFloatBE(o); break;
  }
  return codec.scale === 1 ? raw : raw * codec.scale;
}

/** Encode a value for a write: raw = value / scale, rounded for integer types; range-checked. */
export function encodeGattValue(value: number, codec: ValueCodec): Buffer {
  const size = SIZE[codec.type];
  const buf = Buffer.alloc(codec.offset + size);
  const le = codec.endian === 'little';
  const o = codec.offset;
  const scaled = value / codec.scale;
  if (codec.type === 'float32') {
    if (le) buf.writeFloatLE(scaled, o);
    else buf.writeFloatBE(scaled, o);
    return buf;
  }
  const raw = Math.round(scaled);
  const signed = codec.type.startsWith('int');
  const bits = size * 8;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (!Number.isFinite(raw) || raw < min || raw > max) throw new RangeError(`value ${value} (raw ${raw}) does not fit ${codec.type}`);
  if (signed) buf.writeIntLE(raw, o, size);
  else buf.writeUIntLE(raw, o, size);
  if (!le) buf.subarray(o, o + size).reverse();
  return buf;
}
