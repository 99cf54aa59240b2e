/**
 * The cloud MQTT link. One state machine, transitions logged:
 *
 *   idle ─start()─► connecting ─CONNACK─► online ─connection lost─► backoff ─timer─► connecting
 *                       │  ▲                 │                         ▲
 *                       └──┼─attempt failed──┼─────────────────────────┘ (next broker)
 *                          └── failback ─────┘ (fallback broker → preferred, after failbackAfter;
 *                                                 same broker after passwordCommand.lifetime)
 *   any ─stop()─► stopping ─► idle
 *
 * On every CONNACK: retained "online" on status, commands subscribed (again when the broker
 * has no session), a heartbeat now and every `heartbeat`, a delivery probe (delivery-proof.ts),
 * and once the probe has not shown the broker dropping what it acknowledges, the Drain starts
 * sending the outbox. mqtt.js never reconnects by itself (reconnectPeriod 0): each attempt is
 * a fresh client with freshly read credentials, spaced by exponential backoff with full jitter
 * on the injected clock (capped lower while the broker cannot be reached at all). A broker that
 * hangs up on an MQTT 5 CONNECT, or refuses v5, gets 3.1.1 from then on.
 */
import { connect, type IClientOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { Backoff } from '../core/backoff';
import type { Clock, TimerHandle } from '../core/clock';
import { errorMessage, type Logger } from '../core/logger';
import { BrokerRotation, type ProtocolVersion } from './broker-rotation';
import { redactUrl } from './broker-url';
import { clientOptions, insecureSettings, loadCredentials, refusedProtocolVersion, type Credentials } from './connect-options';
import { runPasswordCommand } from './password-command';
import { probeLinkFor, publisherFor } from './client-ports';
import { ConnectErrors, hungUpAfterConnect, unreachable } from './connect-errors';
import { DeliveryProof, type DeliveryStatus } from './delivery-proof';
import { Drain, type UplinkOutbox } from './drain';
import type { UplinkConfig } from './schema';
import { uplinkTopics, type UplinkTopics } from './topics';

export const UPLINK_STATES = ['idle', 'connecting', 'online', 'backoff', 'stopping'] as const;
export type UplinkState = (typeof UPLINK_STATES)[number];

export type MqttFactory = (url: string, opts: IClientOptions) => MqttClient;

export interface CommandMeta {
  responseTopic?: string;
  correlationData?: Buffer;
  /** Delivered as a retained message: the broker's desired state. */
  retained?: boolean;
}
export type CommandHandler = (actuator: string, payload: Buffer, meta: CommandMeta) => void;
/** A request on <prefix>/<id>/req/<name> (health, logs, trace, ping, alarm.ack). */
export type RequestHandler = (name: string, payload: Buffer, meta: CommandMeta) => void;

export interface UplinkOptions {
  config: UplinkConfig;
  gatewayId: string;
  outbox: UplinkOutbox;
  clock: Clock;
  log: Logger;
  /** Health document for the heartbeat (uplink stats are added under "uplink"). */
  health: () => Record<string, unknown>;
  /**
   * Extra facts for the birth message: sent as MQTT 5 user properties on the
   * retained "online" (the payload stays "online" for every consumer), e.g. the
   * running config and rules versions and hashes.
   */
  birth?: () => Record<string, string>;
  /** Network seam for tests; defaults to mqtt.connect. */
  mqttFactory?: MqttFactory;
  /** Jitter source for the backoff (tests make it deterministic). */
  random?: () => number;
}

export interface UplinkStats {
  state: UplinkState;
  broker: string | null;
  protocolVersion: ProtocolVersion | null;
  connectedSince: number | null;
  reconnects: number;
  published: number;
  ackedRows: number;
  duplicates: number;
  rejected: number;
  inflight: number;
  commands: number;
  lastError: string | null;
  /** Whether what the broker acknowledges was seen delivered (see delivery-proof.ts). */
  delivery: DeliveryStatus;
  /** Topics the broker refuses (PUBACK reason code ≥ 0x80), with the reason and the rows set aside. */
  refused: Array<{ topic: string; reason: string; rows: number }>;
  /** Settings that weaken the link's security (rejectUnauthorized: false, a password in clear text). */
  insecure: string[];
}

export class Uplink {
  readonly topics: UplinkTopics;
  private current: UplinkState = 'idle';
  private readonly rotation: BrokerRotation;
  private readonly backoff: Backoff;
  private readonly drain: Drain;
  private readonly proof: DeliveryProof;
  /** Settings that weaken the link's security, one line each (warned at start, in health). */
  private readonly insecure: string[];
  /** Per connection: the drain has begun (it begins once delivery is not disproven). */
  private drainBegun = false;
  private beginDrain: (() => void) | undefined;
  private readonly log: Logger;
  private readonly handlers = new Set<CommandHandler>();
  private readonly requestHandlers = new Set<RequestHandler>();
  private client: MqttClient | undefined;
  private attempt = 0;
  private attemptProtocol: ProtocolVersion = 5;
  /** The socket error code of the current attempt, if any (tells "never reached" from "hung up"). */
  private attemptErrorCode: string | undefined;
  private timers: { retry?: TimerHandle; connect?: TimerHandle; heartbeat?: TimerHandle; failback?: TimerHandle; renew?: TimerHandle } = {};
  private unsubscribeOutbox: (() => void) | undefined;
  private connectedSince: number | null = null;
  private connacks = 0;
  private commands = 0;
  private readonly errors: ConnectErrors;
  private lastDelivery: DeliveryStatus['state'] | null = null;

  constructor(private readonly o: UplinkOptions) {
    this.log = o.log.child({ component: 'uplink' });
    this.errors = new ConnectErrors(this.log);
    this.topics = uplinkTopics(o.config.topicPrefix, o.gatewayId);
    this.rotation = new BrokerRotation(o.config.brokers);
    this.backoff = new Backoff({ initialMs: o.config.backoff.initial, maxMs: o.config.backoff.max, random: o.random });
    this.drain = new Drain({
      outbox: o.outbox,
      clock: o.clock,
      log: this.log,
      gatewayId: o.gatewayId,
      dataTopic: this.topics.data,
      qos: o.config.qos,
      maxReadings: o.config.batch.maxReadings,
      maxDelay: o.config.batch.maxDelay,
      inflight: o.config.inflight,
    });
    this.insecure = insecureSettings(o.config);
    const proof = o.config.deliveryProof;
    this.proof = new DeliveryProof({
      clock: o.clock,
      topic: this.topics.data,
      gatewayId: o.gatewayId,
      timeout: proof.timeout,
      interval: proof.interval,
      onVerdict: (maySend, status) => this.onDeliveryVerdict(maySend, status),
      // Nothing on the data topic while the probe is subscribed to it (see delivery-proof.ts).
      onProbing: () => this.drain.quiesce(),
    });
  }

  get state(): UplinkState {
    return this.current;
  }

  /** The current broker's URL as it may be shown (credentials redacted). */
  private get shownUrl(): string {
    return redactUrl(this.rotation.current.url);
  }

  /** Check the credentials can be read (throws if a TLS or password file is unreadable) and connect. */
  start(): void {
    if (this.current !== 'idle') return;
    loadCredentials(this.o.config);
    for (const problem of this.insecure) this.log.warn('insecure uplink setting', { problem });
    this.unsubscribeOutbox = this.o.outbox.onCommitted(() => queueMicrotask(() => this.drain.pump()));
    this.connect();
  }

  /**
   * Clean stop: publish what the outbox holds and wait for its PUBACKs (all bounded by
   * drainOnStop), publish retained "offline", DISCONNECT. Clears every timer.
   */
  async stop(): Promise<void> {
    if (this.current === 'idle' || this.current === 'stopping') return;
    const wasOnline = this.current === 'online';
    this.setState('stopping');
    this.clearTimers();
    this.unsubscribeOutbox?.();
    this.unsubscribeOutbox = undefined;
    const client = this.detachClient();
    if (client && wasOnline) await this.leaveGracefully(client, 'publish the outbox');
    else client?.end(true);
    this.drain.end();
    this.connectedSince = null;
    this.setState('idle');
  }

  /** Receive cloud commands (topic <prefix>/<id>/cmd/<actuator>). Returns an unsubscribe function. */
  onCommand(handler: CommandHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Receive requests (topic <prefix>/<id>/req/<name>). Returns an unsubscribe function. */
  onRequest(handler: RequestHandler): () => void {
    this.requestHandlers.add(handler);
    return () => this.requestHandlers.delete(handler);
  }

  stats(): UplinkStats {
    const d = this.drain.stats();
    return {
      state: this.current,
      broker: this.current === 'idle' ? null : this.shownUrl,
      protocolVersion: this.current === 'online' ? this.attemptProtocol : null,
      connectedSince: this.connectedSince,
      reconnects: Math.max(0, this.connacks - 1),
      published: d.published,
      ackedRows: d.ackedRows,
      duplicates: d.duplicates,
      rejected: d.rejected,
      inflight: d.inflight,
      commands: this.commands,
      lastError: this.errors.last,
      delivery: this.o.config.deliveryProof.enabled ? this.proof.current : { ...this.proof.current, state: 'off' },
      refused: this.drain.refusals(),
      insecure: [...this.insecure],
    };
  }

  /** What is wrong with the uplink, one line each, for the daemon's health (empty when nothing is). */
  problems(): string[] {
    const out: string[] = [...this.insecure];
    const proof = this.o.config.deliveryProof.enabled ? this.proof.problem() : undefined;
    if (proof) out.push(proof);
    for (const r of this.drain.refusals()) {
      if (r.topic === this.topics.data && this.proof.current.state === 'refused') continue; // said above
      out.push(`broker refuses ${r.topic}: ${r.reason} (${r.rows} rows set aside)`);
    }
    return out;
  }

  /**
   * One connection attempt. Credentials are read again for each (password file, TLS files,
   * or passwordCommand, which runs asynchronously), so a rotated secret needs no restart.
   * The connect timeout covers the whole attempt, the helper program included.
   */
  private connect(): void {
    const { index, url } = this.rotation.current;
    this.attemptProtocol = this.rotation.protocolFor(index, this.o.config.protocolVersion);
    this.setState('connecting', { broker: redactUrl(url), protocolVersion: this.attemptProtocol });
    const attempt = ++this.attempt;
    this.attemptErrorCode = undefined;
    this.timers.connect = this.o.clock.setTimeout(() => {
      if (attempt !== this.attempt || this.current !== 'connecting') return;
      this.errors.note(new Error(`no CONNACK within ${this.o.config.connectTimeout} ms`));
      this.attemptFailed();
    }, this.o.config.connectTimeout);
    let creds: Credentials;
    try {
      creds = loadCredentials(this.o.config);
    } catch (err) {
      this.errors.note(err);
      this.attemptFailed();
      return;
    }
    const command = this.o.config.passwordCommand;
    if (!command) {
      this.open(attempt, index, url, creds);
      return;
    }
    runPasswordCommand(command.command, command.timeout).then(
      (password) => {
        if (attempt === this.attempt && this.current === 'connecting') this.open(attempt, index, url, { ...creds, password });
      },
      (err: unknown) => {
        if (attempt !== this.attempt || this.current !== 'connecting') return;
        this.errors.note(err);
        this.attemptFailed();
      },
    );
  }

  private open(attempt: number, index: number, url: string, creds: Credentials): void {
    const opts = clientOptions(this.o.config, creds, {
      clientId: this.o.config.clientId ?? `fieldgate-${this.o.gatewayId}`,
      protocolVersion: this.attemptProtocol,
      statusTopic: this.topics.status,
    });
    let client: MqttClient;
    try {
      client = (this.o.mqttFactory ?? connect)(url, opts);
    } catch (err) {
      this.errors.note(err);
      this.attemptFailed();
      return;
    }
    this.client = client;
    client.on('connect', (ack) => this.onConnack(attempt, client, ack));
    client.on('error', (err) => this.onClientError(attempt, index, err));
    client.on('close', () => this.onClose(attempt));
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet));
  }

  private onConnack(attempt: number, client: MqttClient, ack: IConnackPacket): void {
    if (attempt !== this.attempt || this.current !== 'connecting') return;
    this.o.clock.clearTimeout(this.timers.connect);
    this.connacks++;
    this.connectedSince = this.o.clock.now();
    this.errors.connected();
    this.setState('online', { broker: this.shownUrl, sessionPresent: ack.sessionPresent, protocolVersion: this.attemptProtocol });
    // Subscribed on every connect, session or not: the broker then sends the retained
    // commands (desired states) again, which the command handler reconciles. The birth
    // "online" follows the SUBACK: a backend that waits for it knows commands are heard.
    client.subscribe([this.topics.commandFilter, this.topics.requestFilter], { qos: 1 }, (err, granted) => {
      if (err) this.errors.note(err);
      else if (granted?.some((g) => g.qos >= 0x80)) this.log.error('broker refused the command subscription', { filters: [this.topics.commandFilter, this.topics.requestFilter] });
      if (this.client !== client) return;
      const userProperties = this.attemptProtocol === 5 ? this.o.birth?.() : undefined;
      client.publish(this.topics.status, 'online', { qos: 1, retain: true, ...(userProperties ? { properties: { userProperties } } : {}) }, (e) => e && this.errors.note(e));
    });
    this.publishHeartbeat(client);
    this.timers.heartbeat = this.o.clock.setInterval(() => this.publishHeartbeat(client), this.o.config.heartbeat);
    const lifetime = this.o.config.passwordCommand?.lifetime;
    if (lifetime !== undefined) this.timers.renew = this.o.clock.setTimeout(() => void this.renewCredentials(client), lifetime);
    if (!this.rotation.onPreferred) {
      this.timers.failback = this.o.clock.setTimeout(() => void this.failback(client), this.o.config.failbackAfter);
    }
    const publish = publisherFor(client, this.attemptProtocol === 5);
    const replayedUpTo = this.o.outbox.lastCommittedSeq();
    this.drainBegun = false;
    this.beginDrain = () => {
      this.drainBegun = true;
      this.drain.begin(publish, replayedUpTo);
    };
    if (this.o.config.deliveryProof.enabled) this.proof.begin(probeLinkFor(client, this.log));
    else this.beginDrain();
  }

  /** The delivery proof's verdict: send (begin or resume the drain) unless the broker drops what it acknowledges. */
  private onDeliveryVerdict(maySend: boolean, status: DeliveryStatus): void {
    if (this.current !== 'online') return;
    const fields = { topic: status.topic, state: status.state, detail: status.detail };
    if (status.state !== this.lastDelivery) {
      if (status.state === 'verified') this.log.info('delivery verified: our probe came back', fields);
      else if (maySend) this.log.warn('delivery not proven; sending anyway', fields);
      else this.log.error(`broker acknowledges but does not deliver ${status.topic}: check its ACL; readings stay in the outbox`, fields);
      this.lastDelivery = status.state;
    }
    if (!maySend) this.drain.quiesce();
    else if (!this.drainBegun) this.beginDrain?.();
    else this.drain.resume();
  }

  private onClientError(attempt: number, brokerIndex: number, err: Error): void {
    if (attempt !== this.attempt) return;
    this.errors.note(err);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') this.attemptErrorCode = code;
    if (this.current === 'connecting' && this.attemptProtocol === 5 && refusedProtocolVersion(err)) {
      this.downgrade(brokerIndex, `CONNACK 0x${Number(code).toString(16).padStart(2, '0')}: ${errorMessage(err)}`);
    }
  }

  private onClose(attempt: number): void {
    if (attempt !== this.attempt) return;
    if (this.current === 'connecting' && this.attemptProtocol === 5 && hungUpAfterConnect(this.attemptErrorCode)) {
      // RabbitMQ 3.x's MQTT plugin cannot parse a v5 CONNECT and closes the socket without a CONNACK.
      this.downgrade(this.rotation.current.index, 'connection closed before CONNACK');
    }
    if (this.current === 'connecting') this.attemptFailed();
    else if (this.current === 'online') this.connectionLost();
  }

  private onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const actuator = this.topics.actuatorOf(topic);
    if (this.proof.received(topic, payload)) return;
    const request = actuator === undefined ? this.topics.requestOf(topic) : undefined;
    if (request !== undefined) {
      // A retained request is a stale question: requests are answered only when asked.
      if (packet.retain) return;
      const meta: CommandMeta = { responseTopic: packet.properties?.responseTopic, correlationData: packet.properties?.correlationData };
      for (const handler of this.requestHandlers) {
        try {
          handler(request, payload, meta);
        } catch (err) {
          this.log.error('request handler failed', { request, error: errorMessage(err) });
        }
      }
      return;
    }
    if (actuator === undefined) return;
    this.commands++;
    const meta: CommandMeta = { responseTopic: packet.properties?.responseTopic, correlationData: packet.properties?.correlationData, retained: packet.retain };
    for (const handler of this.handlers) {
      try {
        handler(actuator, payload, meta);
      } catch (err) {
        this.log.error('command handler failed', { actuator, error: errorMessage(err) });
      }
    }
  }

  /** Speak MQTT 3.1.1 to this broker from now on (logged once per broker, with the reason). */
  private downgrade(brokerIndex: number, reason: string): void {
    if (this.rotation.downgrade(brokerIndex)) {
      this.log.info('broker refused MQTT 5; using MQTT 3.1.1 for it from now on', { broker: this.shownUrl, reason });
    }
  }

  /** A connection attempt did not reach CONNACK: next broker, after a backoff delay (none after a v5 refusal). */
  private attemptFailed(): void {
    const protocolNow = this.rotation.protocolFor(this.rotation.current.index, this.o.config.protocolVersion);
    const retrySameWithV311 = protocolNow !== this.attemptProtocol;
    this.detachClient()?.end(true);
    this.o.clock.clearTimeout(this.timers.connect);
    if (retrySameWithV311) {
      this.connect();
      return;
    }
    this.errors.logOnce('uplink connection attempt failed', this.shownUrl);
    this.rotation.attemptFailed();
    this.retryLater(unreachable(this.attemptErrorCode));
  }

  /** An established connection broke: rows in flight stay in the outbox; back to the preferred broker. */
  private connectionLost(): void {
    const onlineFor = this.o.clock.now() - (this.connectedSince ?? this.o.clock.now());
    this.drain.end();
    this.clearTimers();
    this.detachClient()?.end(true);
    this.connectedSince = null;
    this.errors.logOnce('uplink connection lost', this.shownUrl);
    // A connection that stayed up for a keepalive interval was healthy: start the backoff afresh.
    if (onlineFor >= this.o.config.keepalive) this.backoff.reset();
    this.rotation.toPreferred();
    this.retryLater(false);
  }

  /**
   * Back off before the next attempt: full jitter below the exponential cap, and below
   * backoff.maxUnreachable when the broker could not be reached at all (so its return after a
   * long outage is noticed within seconds; a broker that answered and refused keeps the long cap).
   */
  private retryLater(unreachable: boolean): void {
    const delay = this.backoff.next(unreachable ? this.o.config.backoff.maxUnreachable : undefined);
    this.setState('backoff', { delayMs: delay, next: this.shownUrl });
    this.timers.retry = this.o.clock.setTimeout(() => {
      this.timers.retry = undefined;
      if (this.current === 'backoff') this.connect();
    }, delay);
  }

  /** On a fallback broker for failbackAfter: leave it cleanly and try the preferred one. */
  private async failback(client: MqttClient): Promise<void> {
    if (this.current !== 'online' || this.client !== client) return;
    this.log.info('returning to the preferred broker', { from: this.shownUrl });
    if (!(await this.reconnectCleanly(client))) return;
    this.rotation.toPreferred();
    this.connect();
  }

  /** passwordCommand.lifetime is up: leave cleanly and connect again with a fresh password from the helper. */
  private async renewCredentials(client: MqttClient): Promise<void> {
    if (this.current !== 'online' || this.client !== client) return;
    this.log.info('password lifetime is up; reconnecting with a fresh one', { broker: this.shownUrl });
    if (await this.reconnectCleanly(client)) this.connect();
  }

  /** Leave the broker cleanly (in-flight acks, offline, DISCONNECT). False when stop() ran meanwhile. */
  private async reconnectCleanly(client: MqttClient): Promise<boolean> {
    this.clearTimers();
    this.detachClient();
    await this.leaveGracefully(client, 'in-flight only');
    this.drain.end();
    this.connectedSince = null;
    if (this.current !== 'online') return false;
    this.backoff.reset();
    return true;
  }

  /**
   * Bounded by drainOnStop: publish what the outbox holds (clean stop) or only wait for the
   * in-flight acks (failback), then publish retained offline and DISCONNECT.
   */
  private async leaveGracefully(client: MqttClient, how: 'publish the outbox' | 'in-flight only'): Promise<void> {
    if (how === 'in-flight only') this.drain.quiesce();
    let deadline: TimerHandle | undefined;
    const expired = new Promise<void>((resolve) => (deadline = this.o.clock.setTimeout(resolve, this.o.config.drainOnStop)));
    const steps = (async () => {
      await (how === 'publish the outbox' ? this.drain.finish() : this.drain.whenIdle());
      await new Promise<void>((resolve) => client.publish(this.topics.status, 'offline', { qos: 1, retain: true }, () => resolve()));
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    })();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await Promise.race([steps, expired, closed]);
    this.o.clock.clearTimeout(deadline);
    client.end(true);
  }

  private publishHeartbeat(client: MqttClient): void {
    let doc: Record<string, unknown>;
    try {
      doc = { ts: this.o.clock.now(), gw: this.o.gatewayId, ...this.o.health(), uplink: this.stats() };
    } catch (err) {
      doc = { ts: this.o.clock.now(), gw: this.o.gatewayId, healthError: errorMessage(err), uplink: this.stats() };
    }
    client.publish(this.topics.health, JSON.stringify(doc), { qos: 0, retain: false }, (err) => err && this.log.debug('heartbeat not sent', { error: errorMessage(err) }));
  }

  private detachClient(): MqttClient | undefined {
    const client = this.client;
    this.client = undefined;
    this.attempt++; // events from the old client are now ignored
    client?.on('error', () => undefined); // late socket errors must not become unhandled
    return client;
  }

  private clearTimers(): void {
    const { retry, connect, heartbeat, failback, renew } = this.timers;
    this.o.clock.clearTimeout(renew);
    this.o.clock.clearTimeout(retry);
    this.o.clock.clearTimeout(connect);
    this.o.clock.clearInterval(heartbeat);
    this.o.clock.clearTimeout(failback);
    this.timers = {};
    this.proof.end();
  }

  private setState(next: UplinkState, fields: Record<string, unknown> = {}): void {
    if (next === this.current) return;
    this.log.info('uplink state', { from: this.current, to: next, ...fields });
    this.current = next;
  }
}
