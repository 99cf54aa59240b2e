import { MAX_READ_BITS, MAX_READ_REGISTERS, REGISTER_KINDS, type RegisterKind } from './schema';

/**
 * The coalescing planner: a pure function from the points due in one poll cycle
 * of one device to the fewest read requests the protocol allows.
 *
 * Per data table, points sorted by address are merged greedily left to right:
 * a point joins the current block when the unused gap before it is ≤ maxGap,
 * the block stays within maxRegisters (≤ 125) or maxBits (≤ 2000), and the block
 * would not span a forbidden range. Greedy is optimal here: each block starts
 * at the lowest uncovered point and reaches as far as the limits allow. A point
 * that itself overlaps a forbidden range is read alone.
 */

export interface PlanPoint {
  register: RegisterKind;
  address: number;
  /** Registers (or bits, for coil/discrete) the point occupies. */
  words: number;
}

export interface ReadRequest<P extends PlanPoint = PlanPoint> {
  register: RegisterKind;
  start: number;
  count: number;
  points: P[];
}

/** An inclusive address range [from, to]. */
export type AddressRange = readonly [number, number];

export interface PlanLimits {
  maxGap: number;
  maxRegisters: number;
  maxBits: number;
  forbidden: readonly AddressRange[];
}

export const isBitTable = (r: RegisterKind): boolean => r === 'coil' || r === 'discrete';

export function requestLimit(register: RegisterKind, limits: Pick<PlanLimits, 'maxRegisters' | 'maxBits'>): number {
  return isBitTable(register) ? Math.min(limits.maxBits, MAX_READ_BITS) : Math.min(limits.maxRegisters, MAX_READ_REGISTERS);
}

/** True when [start, end) shares an address with any forbidden range. */
export function overlapsForbidden(start: number, end: number, forbidden: readonly AddressRange[]): boolean {
  return forbidden.some(([from, to]) => start <= to && from < end);
}

export function planReads<P extends PlanPoint>(points: readonly P[], limits: PlanLimits): ReadRequest<P>[] {
  const out: ReadRequest<P>[] = [];
  for (const register of REGISTER_KINDS) {
    const limit = requestLimit(register, limits);
    const sorted = points.filter((p) => p.register === register).sort((a, b) => a.address - b.address || b.words - a.words);
    let block: ReadRequest<P> | undefined;
    let blockIsolated = false;
    for (const p of sorted) {
      const end = p.address + p.words;
      const isolated = overlapsForbidden(p.address, end, limits.forbidden);
      if (block && !isolated && !blockIsolated) {
        const blockEnd = block.start + block.count;
        const newEnd = Math.max(blockEnd, end);
        if (
          p.address - blockEnd <= limits.maxGap &&
          newEnd - block.start <= limit &&
          !overlapsForbidden(block.start, newEnd, limits.forbidden)
        ) {
          block.count = newEnd - block.start;
          block.points.push(p);
          continue;
        }
      }
      block = { register, start: p.address, count: p.words, points: [p] };
      blockIsolated = isolated;
      out.push(block);
    }
  }
  return out;
}

/**
 * Split a request in two by its points (first half, second half), each trimmed
 * to the registers its points need. Undefined for a single-point request.
 */
export function splitRequest<P extends PlanPoint>(req: ReadRequest<P>): [ReadRequest<P>, ReadRequest<P>] | undefined {
  if (req.points.length < 2) return undefined;
  const half = Math.ceil(req.points.length / 2);
  const part = (points: P[]): ReadRequest<P> => {
    const start = Math.min(...points.map((p) => p.address));
    const end = Math.max(...points.map((p) => p.address + p.words));
    return { register: req.register, start, count: end - start, points };
  };
  return [part(req.points.slice(0, half)), part(req.points.slice(half))];
}

/**
 * The least number of requests the protocol allows for these points: any gap may
 * be spanned, only the size limit and forbidden ranges split blocks.
 */
export function minimumRequests(points: readonly PlanPoint[], limits: Omit<PlanLimits, 'maxGap'>): number {
  return planReads(points, { ...limits, maxGap: Number.MAX_SAFE_INTEGER }).length;
}
