/**
 * How readings and message properties are packed into outbox columns.
 * quality and flags share one small integer: bits 0-1 quality, bits 2.. ReadingFlag bits.
 */
import type { Quality } from '../core/reading';
import type { MessageProperties } from './types';

const QUALITY_CODE: Record<Quality, number> = { good: 0, uncertain: 1, bad: 2 };
const QUALITY_BY_CODE: readonly Quality[] = ['good', 'uncertain', 'bad'];

/** Quality as the small integer used on disk and on the wire (0 good, 1 uncertain, 2 bad). */
export function qualityCode(q: Quality): number {
  return QUALITY_CODE[q];
}

export function qualityFromCode(code: number): Quality {
  return QUALITY_BY_CODE[code] ?? 'bad';
}

export function packQualityFlags(q: Quality, flags: number): number {
  return (flags << 2) | QUALITY_CODE[q];
}

/** JSON text for MessageProperties; Buffers travel as base64. */
export function encodeProperties(p: MessageProperties | undefined): string | null {
  if (!p) return null;
  const { correlationData, ...rest } = p;
  return JSON.stringify({ ...rest, ...(correlationData ? { correlationData: correlationData.toString('base64') } : {}) });
}

export function decodeProperties(text: string | null): MessageProperties | undefined {
  if (!text) return undefined;
  const raw = JSON.parse(text) as Omit<MessageProperties, 'correlationData'> & { correlationData?: string };
  const { correlationData, ...rest } = raw;
  return { ...rest, ...(correlationData !== undefined ? { correlationData: Buffer.from(correlationData, 'base64') } : {}) };
}
