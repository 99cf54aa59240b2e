/**
 * mqtt.js client options from the uplink config. Secrets (password, key) are read from
 * files at every connection attempt (a rotated secret needs no restart) and never logged. The uplink owns reconnection, so mqtt.js's own
 * reconnect is off (reconnectPeriod 0) and each attempt gets a fresh client.
 */
import fs from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { ProtocolVersion } from './broker-rotation';
import { isPlaintext, redactUrl } from './broker-url';
import type { UplinkConfig } from './schema';

/**
 * Announced to MQTT 5 brokers: the largest packet we accept. The broker drops
 * bigger ones instead of delivering them (a command is at most 16 KiB of
 * payload; see src/commands/bounds.ts). On MQTT 3.1.1 the command handler
 * rejects and counts them.
 */
export const MAX_INCOMING_PACKET = 32 * 1024;

export interface Credentials {
  username?: string;
  password?: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Read TLS files and the password file. Throws naming the file (never its content). */
export function loadCredentials(config: UplinkConfig): Credentials {
  const read = (what: string, file: string | undefined): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new Error(`uplink ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const passwordFromFile = read('passwordFile', config.passwordFile)?.toString('utf8').split(/\r?\n/)[0];
  return {
    username: config.username,
    password: passwordFromFile ?? config.password,
    ca: read('tls.ca', config.tls?.ca),
    cert: read('tls.cert', config.tls?.cert),
    key: read('tls.key', config.tls?.key),
  };
}

export interface ConnectParams {
  clientId: string;
  protocolVersion: ProtocolVersion;
  statusTopic: string;
}

export function clientOptions(config: UplinkConfig, creds: Credentials, p: ConnectParams): IClientOptions {
  const opts: IClientOptions = {
    clientId: p.clientId,
    protocolVersion: p.protocolVersion,
    clean: false,
    keepalive: Math.round(config.keepalive / 1000),
    connectTimeout: config.connectTimeout,
    reconnectPeriod: 0,
    resubscribe: false,
    queueQoSZero: false,
    // mqtt-packet otherwise pre-builds a 2-byte Buffer for each of the 65 536 message ids
    // on the first publish: ~6 MB of heap held for the life of the process, on a box
    // where the whole daemon should fit in 80 MB. Building the id per packet costs nothing measurable.
    writeCache: false,
    will: { topic: p.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
  };
  if (p.protocolVersion === 5) {
    opts.properties = { sessionExpiryInterval: Math.min(0xffffffff, Math.round(config.sessionExpiry / 1000)), maximumPacketSize: MAX_INCOMING_PACKET };
  }
  if (creds.username !== undefined) opts.username = creds.username;
  if (creds.password !== undefined) opts.password = creds.password;
  if (creds.ca) opts.ca = creds.ca;
  if (creds.cert) opts.cert = creds.cert;
  if (creds.key) opts.key = creds.key;
  if (config.tls) opts.rejectUnauthorized = config.tls.rejectUnauthorized;
  return opts;
}

/** Settings that weaken the link's security, as one line each for the log and health. */
export function insecureSettings(config: UplinkConfig): string[] {
  const out: string[] = [];
  if (config.tls?.rejectUnauthorized === false) {
    out.push('TLS certificate checking is off (uplink.tls.rejectUnauthorized: false): anyone on the network path can pose as the broker');
  }
  if (config.password !== undefined || config.passwordFile !== undefined || config.passwordCommand !== undefined) {
    for (const url of config.brokers.filter(isPlaintext)) out.push(`broker password sent in clear text to ${redactUrl(url)}: use mqtts:// or wss://`);
  }
  return out;
}

/** Connect refusals that mean "this broker does not speak MQTT 5". */
export function refusedProtocolVersion(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // 0x01 is the MQTT 3.1.1 "unacceptable protocol version" return code (an old broker's
  // answer, read by mqtt.js as a v5 reason code); 0x84 is MQTT 5's "unsupported protocol version".
  return code === 0x01 || code === 0x84;
}
