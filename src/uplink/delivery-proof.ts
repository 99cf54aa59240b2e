/**
 * Proof that what the broker acknowledges is delivered. A PUBACK only says the broker
 * took the message: Mosquitto on MQTT 3.1.1 PUBACKs a publish its ACL denies and drops
 * it. So on every CONNACK, and every `interval` while online, the uplink makes a round
 * trip on its own data topic:
 *
 *   SUBSCRIBE data ─SUBACK─► PUBLISH probe (QoS 1, empty batch) ─PUBACK─► probe comes back ─► verified
 *        │ ≥ 0x80: we may not read it      │ ≥ 0x80: refused                └ not within `timeout` ─► not-delivered
 *        ▼                                 ▼
 *   (probe still published) ─PUBACK ok─► unverifiable
 *   then UNSUBSCRIBE data (we do not want our own telemetry back) ─UNSUBACK─► verdict to the uplink.
 *
 * While the subscription lasts nothing else may be sent on the data topic: `onProbing`
 * asks the uplink to hold its drain from before the SUBSCRIBE, and the verdict (which
 * lets it send again) comes only with the UNSUBACK. Our own readings would otherwise come
 * back to us, and aedes closes a connection whose PUBACK names a message its UNSUBSCRIBE
 * has already dropped from the session ("no such packet").
 *
 * The probe is a valid, empty data batch ({"v":1,"gw":…,"r":[],"probe":"…"}) so consumers
 * that decode batches see zero readings. The verdict tells the uplink whether the drain may
 * send: only `not-delivered` stops it (rows stay in the outbox; a PUBACK would delete them
 * while the broker drops them). Single-threaded; stale callbacks of an ended session are ignored.
 */
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage } from '../core/logger';

export const DELIVERY_STATES = ['off', 'pending', 'verified', 'unverifiable', 'refused', 'not-delivered'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryStatus {
  state: DeliveryState;
  /** The topic the round trip runs on. */
  topic: string;
  /** What the broker answered, in words (null while pending or verified). */
  detail: string | null;
  /** Last time a probe came back (clock ms). */
  verifiedAt: number | null;
  /** Where the running probe is; null when none runs. */
  step: 'subscribing' | 'publishing' | 'awaiting-echo' | 'unsubscribing' | null;
}

/** The three MQTT operations a probe needs, on the current connection. */
export interface ProbeLink {
  subscribe(topic: string, done: (err: Error | undefined, grantedQos: number[]) => void): void;
  /** done: the UNSUBACK arrived, or the request failed (then the connection is going). */
  unsubscribe(topic: string, done: () => void): void;
  publish(topic: string, payload: Buffer, done: (err: Error | undefined) => void): void;
}

export interface DeliveryProofOptions {
  clock: Clock;
  topic: string;
  gatewayId: string;
  /** A probe that has not come back after this long is not delivered. */
  timeout: number;
  /** Probe again this often while online. */
  interval: number;
  /** Called with each verdict, once unsubscribed; false means "do not send: the broker drops what it acknowledges". */
  onVerdict: (maySend: boolean, status: DeliveryStatus) => void;
  /** A probe starts: send nothing on the topic until the next verdict. */
  onProbing?: () => void;
}

/** After a failed round trip, try again this soon (or at `interval`, if shorter). */
export const PROBE_RETRY_MS = 30_000;
const REFUSED = 0x80;

export class DeliveryProof {
  private status: DeliveryStatus;
  private session = 0;
  private probeSeq = 0;
  private expected: Buffer | undefined;
  private link: ProbeLink | undefined;
  private timers: { timeout?: TimerHandle; next?: TimerHandle; unsubscribed?: TimerHandle } = {};

  constructor(private readonly o: DeliveryProofOptions) {
    this.status = { state: 'pending', topic: o.topic, detail: null, verifiedAt: null, step: null };
  }

  get current(): DeliveryStatus {
    return { ...this.status };
  }

  /** A new connection: probe now, then every interval. */
  begin(link: ProbeLink): void {
    this.end();
    this.link = link;
    this.probe();
  }

  /** Connection gone or stopping: forget the running probe, clear every timer. */
  end(): void {
    this.session++;
    this.link = undefined;
    this.expected = undefined;
    this.status.step = null;
    this.o.clock.clearTimeout(this.timers.timeout);
    this.o.clock.clearTimeout(this.timers.next);
    this.o.clock.clearTimeout(this.timers.unsubscribed);
    this.timers = {};
  }

  /** An incoming message; true when it was our probe (the caller then ignores it). */
  received(topic: string, payload: Buffer): boolean {
    if (topic !== this.o.topic) return false;
    if (this.expected && payload.equals(this.expected)) {
      this.status.verifiedAt = this.o.clock.now();
      this.verdict('verified', null);
    }
    return true; // our own telemetry echoed during the probe window: not for us either
  }

  /** One line for the health document, or undefined when delivery is proven. */
  problem(): string | undefined {
    const { state, topic, detail } = this.status;
    if (state === 'not-delivered') return `broker acknowledges but does not deliver ${topic}: check its ACL (${detail})`;
    if (state === 'refused') return `broker refuses ${topic}: ${detail}`;
    if (state === 'unverifiable') return `delivery on ${topic} unverified: ${detail}`;
    return undefined;
  }

  private probe(): void {
    const link = this.link;
    if (!link) return;
    const session = this.session;
    const payload = Buffer.from(`{"v":1,"gw":${JSON.stringify(this.o.gatewayId)},"r":[],"probe":"${this.o.clock.now()}-${++this.probeSeq}"}`);
    this.o.onProbing?.();
    this.status.step = 'subscribing';
    link.subscribe(this.o.topic, (err, granted) => {
      if (session !== this.session) return;
      const denied = granted.find((q) => q >= REFUSED);
      const cannotRead = err ? `subscribing to it failed: ${errorMessage(err)}` : denied !== undefined ? `the broker refused our subscription to it (SUBACK ${hex(denied)})` : undefined;
      this.status.step = 'publishing';
      if (!cannotRead) this.expected = payload;
      this.timers.timeout = this.o.clock.setTimeout(() => {
        if (session !== this.session) return;
        this.verdict('not-delivered', cannotRead ? `no PUBACK for our probe within ${this.o.timeout} ms` : `our probe did not come back within ${this.o.timeout} ms`);
      }, this.o.timeout);
      link.publish(this.o.topic, payload, (perr) => {
        if (session !== this.session) return;
        const code = (perr as { code?: unknown } | undefined)?.code;
        if (typeof code === 'number' && code >= REFUSED) return this.verdict('refused', `PUBACK ${hex(code)} (${errorMessage(perr)})`);
        if (perr) return; // not a broker verdict (the connection broke): the next session probes again
        if (cannotRead) return this.verdict('unverifiable', `${cannotRead}; the broker acknowledges our messages`);
        if (this.status.step === 'publishing') this.status.step = 'awaiting-echo';
      });
    });
  }

  private verdict(state: DeliveryState, detail: string | null): void {
    const link = this.link;
    this.o.clock.clearTimeout(this.timers.timeout);
    this.timers.timeout = undefined;
    this.expected = undefined;
    const settled: DeliveryStatus = { ...this.status, state, detail, step: null };
    const again = state === 'not-delivered' ? Math.min(this.o.interval, PROBE_RETRY_MS) : this.o.interval;
    this.o.clock.clearTimeout(this.timers.next);
    this.timers.next = this.o.clock.setTimeout(() => this.probe(), again);
    if (!link) {
      this.status = settled;
      return;
    }
    // The verdict stands once the subscription is gone (UNSUBACK), or after `timeout` from a
    // broker that never answers it: the drain stays held until then (see the header).
    this.status.step = 'unsubscribing';
    const session = this.session;
    let applied = false;
    const apply = () => {
      if (applied || session !== this.session) return;
      applied = true;
      this.o.clock.clearTimeout(this.timers.unsubscribed);
      this.timers.unsubscribed = undefined;
      this.status = settled;
      this.o.onVerdict(state !== 'not-delivered', this.current);
    };
    this.timers.unsubscribed = this.o.clock.setTimeout(apply, this.o.timeout);
    link.unsubscribe(this.o.topic, apply);
  }
}

function hex(code: number): string {
  return `0x${code.toString(16).padStart(2, '0')}`;
}
