/**
 * Which broker to try next. Policy:
 *  - a connection attempt that fails moves on to the next broker in the list
 *    (after the last one, the cycle starts again at the first, preferred one);
 *  - a connection that was up and is lost starts the next cycle at the preferred broker;
 *  - while connected to a fallback broker, the uplink returns to the preferred one
 *    after `failbackAfter` (uplink.ts drives that timer and calls toPreferred()).
 * A broker that refused MQTT 5 is remembered here and spoken to with 3.1.1.
 */
export type ProtocolVersion = 4 | 5;

export class BrokerRotation {
  private index = 0;
  private readonly downgraded = new Set<number>();

  constructor(private readonly urls: readonly string[]) {
    if (urls.length === 0) throw new Error('at least one broker URL is required');
  }

  get current(): { index: number; url: string } {
    return { index: this.index, url: this.urls[this.index] };
  }

  get onPreferred(): boolean {
    return this.index === 0;
  }

  /** A connection attempt failed: try the next broker. */
  attemptFailed(): void {
    this.index = (this.index + 1) % this.urls.length;
  }

  /** An established connection was lost, or time to fail back: start at the preferred broker. */
  toPreferred(): void {
    this.index = 0;
  }

  protocolFor(index: number, configured: ProtocolVersion): ProtocolVersion {
    return this.downgraded.has(index) ? 4 : configured;
  }

  /** Remember that the broker at `index` refused MQTT 5. Returns false if it already was. */
  downgrade(index: number): boolean {
    if (this.downgraded.has(index)) return false;
    this.downgraded.add(index);
    return true;
  }
}
