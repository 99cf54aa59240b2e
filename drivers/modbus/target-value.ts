import type { TargetValue } from '../driver';
import { encodeValue } from './codec';
import { modbusTargetSchema } from './schema';

/**
 * What a Modbus target will really hold when `value` is written to it (pure; the
 * same arithmetic as the driver's write: raw = (value - offset) / scale, integer
 * types rounded to the nearest integer and range-checked). Float types hold the
 * value as given.
 */
export function modbusTargetValue(target: unknown, value: number | boolean): TargetValue {
  const t = modbusTargetSchema.parse(target);
  if (t.register === 'coil' || t.type === 'bool' || typeof value === 'boolean') return { value, rounded: false };
  const raw = (value - t.offset) / t.scale;
  if (t.type === 'float32' || t.type === 'float64') return { value, rounded: false };
  const int = Math.round(raw);
  try {
    encodeValue(int, { type: t.type, order: t.order });
  } catch {
    return { error: `${value} does not fit the ${t.type} register ${t.address}${t.scale !== 1 || t.offset !== 0 ? ` (raw ${raw} with scale ${t.scale}, offset ${t.offset})` : ''}` };
  }
  // Scaled arithmetic in binary floating point: 12.7 / 0.1 is 126.99999999999999, which is 127.
  if (Math.abs(raw - int) <= 1e-9 * Math.max(1, Math.abs(raw))) return { value, rounded: false };
  return { value: Number((int * t.scale + t.offset).toPrecision(12)), rounded: true };
}
