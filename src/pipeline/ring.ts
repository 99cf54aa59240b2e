/**
 * A FIFO of (ts, value) samples in preallocated typed arrays: push at the newest
 * end, shift from the oldest, no allocation per sample. A fixed ring holds at
 * most `capacity` samples (pushing onto a full one is a bug and throws); a
 * growable ring doubles its arrays when full, which happens only while a
 * time-based window is filling up for the first time.
 */
export class Ring {
  private values: Float64Array;
  private times: Float64Array;
  private head = 0; // index of the oldest sample
  private size = 0;

  constructor(
    capacity: number,
    private readonly growable = false,
  ) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  get capacity(): number {
    return this.values.length;
  }

  push(ts: number, value: number): void {
    if (this.size === this.values.length) {
      if (!this.growable) throw new Error(`ring full (capacity ${this.values.length})`);
      this.grow();
    }
    const i = (this.head + this.size) % this.values.length;
    this.values[i] = value;
    this.times[i] = ts;
    this.size++;
  }

  /** Remove the oldest sample and return its value. */
  shift(): number {
    if (this.size === 0) throw new Error('ring empty');
    const v = this.values[this.head];
    this.head = (this.head + 1) % this.values.length;
    this.size--;
    return v;
  }

  oldestTs(): number {
    return this.times[this.head];
  }

  /** Sum of the values held, added afresh (to discard a running sum's rounding drift). */
  sum(): number {
    let s = 0;
    for (let k = 0, i = this.head; k < this.size; k++, i = (i + 1) % this.values.length) s += this.values[i];
    return s;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const n = this.values.length * 2;
    const values = new Float64Array(n);
    const times = new Float64Array(n);
    for (let k = 0, i = this.head; k < this.size; k++, i = (i + 1) % this.values.length) {
      values[k] = this.values[i];
      times[k] = this.times[i];
    }
    this.values = values;
    this.times = times;
    this.head = 0;
  }
}

/**
 * The last `capacity` values, kept both in arrival order and sorted, so the
 * median is a lookup: each push is one binary search and one shift of at most
 * `capacity` numbers, no allocation.
 */
export class MedianWindow {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private size = 0;

  constructor(capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(v: number): void {
    const n = this.ring.length;
    if (this.size === n) {
      this.removeSorted(this.ring[this.head]);
      this.ring[this.head] = v;
      this.head = (this.head + 1) % n;
    } else {
      this.ring[(this.head + this.size) % n] = v;
      this.size++;
    }
    this.insertSorted(v);
  }

  /** Median of the values held: the middle one, or the mean of the two middle ones while an even number is held. */
  median(): number {
    const s = this.size;
    if (s === 0) return NaN;
    return s % 2 === 1 ? this.sorted[(s - 1) / 2] : (this.sorted[s / 2 - 1] + this.sorted[s / 2]) / 2;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  /** Insert into sorted[0..size-1) (size already counts the new value). */
  private insertSorted(v: number): void {
    const used = this.size - 1;
    const i = this.lowerBound(v, used);
    this.sorted.copyWithin(i + 1, i, used);
    this.sorted[i] = v;
  }

  /** Remove one occurrence of v from sorted[0..size). */
  private removeSorted(v: number): void {
    const i = this.lowerBound(v, this.size);
    this.sorted.copyWithin(i, i + 1, this.size);
  }

  /** First index in sorted[0..end) whose value is >= v. */
  private lowerBound(v: number, end: number): number {
    let lo = 0;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
