/**
 * A real Mosquitto broker for integration tests, on a free loopback port.
 * Always stop it in teardown: `t.after(() => broker.kill())`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectAsync } from 'mqtt';
import { waitFor } from './wait';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD_BIN = '/usr/bin/mosquitto_passwd';

export interface MosquittoOptions {
  port?: number;
  /** Keep retained messages and persistent sessions across restart() (in a temp dir). */
  persistence?: boolean;
  /** ACL file content (anonymous clients get these lines); e.g. "topic write a/#". */
  acl?: string;
  /** Make the listener TLS-only (url becomes mqtts://). Files are PEM paths; they are copied into the broker's temp dir. */
  tls?: MosquittoTls;
  /**
   * Also listen for MQTT over WebSockets on a second free port (`wsUrl`; ws://, or wss:// with
   * `tls`, same certificates and client-certificate policy as the MQTT listener).
   */
  websockets?: boolean;
  /** Require these users and passwords (no anonymous clients); change them with setPasswords(). */
  passwords?: Record<string, string>;
}

export interface MosquittoTls {
  /** CA that verifies client certificates. */
  cafile: string;
  certfile: string;
  keyfile: string;
  /** Refuse clients without a certificate signed by cafile (default true). */
  requireCertificate?: boolean;
  /** The client certificate's CN becomes the MQTT username (default true). */
  useIdentityAsUsername?: boolean;
}

export interface Mosquitto {
  url: string;
  port: number;
  /** ws://127.0.0.1:<port> (wss:// with TLS) when started with `websockets`. */
  wsUrl?: string;
  /** Graceful stop (SIGTERM), waits for exit. */
  stop(): Promise<void>;
  /** Start again on the same port (after stop or kill). */
  restart(): Promise<void>;
  /** Replace the password file and make the running broker reload it (SIGHUP); connected clients stay. */
  setPasswords(passwords: Record<string, string>): Promise<void>;
  /** SIGKILL, waits for exit; also removes the temp dir. Safe to call twice. */
  kill(): Promise<void>;
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  const port = opts.port ?? (await freePort());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  const passwordFile = path.join(dir, 'passwords');
  const writePasswords = (passwords: Record<string, string>) => {
    fs.writeFileSync(passwordFile, '');
    for (const [user, password] of Object.entries(passwords)) {
      const r = spawnSync(MOSQUITTO_PASSWD_BIN, ['-b', passwordFile, user, password], { stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed for ${user}`);
    }
    fs.chmodSync(passwordFile, 0o644); // throwaway test passwords; read by the broker after it drops root
  };
  if (opts.passwords) writePasswords(opts.passwords);
  const auth = opts.passwords ? ['allow_anonymous false', `password_file ${passwordFile}`] : ['allow_anonymous true'];
  const lines = [`listener ${port} 127.0.0.1`, ...(opts.tls ? tlsLines(opts.tls, dir) : [])];
  const wsPort = opts.websockets ? await freePort() : undefined;
  // Mosquitto 2.0.11 needs a plain listener besides a websockets one ("Unable to start any listening sockets").
  if (wsPort !== undefined) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...(opts.tls ? tlsLines(opts.tls, dir) : []));
  lines.push(...auth, 'log_dest none');
  lines.push(opts.persistence ? `persistence true\npersistence_location ${dir}/` : 'persistence false');
  if (opts.acl !== undefined) {
    fs.writeFileSync(path.join(dir, 'acl'), opts.acl + '\n');
    lines.push(`acl_file ${path.join(dir, 'acl')}`);
  }
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  // Started as root, mosquitto drops to the "mosquitto" user and must still read its ACL, TLS files and write its database here.
  fs.chmodSync(dir, 0o777);
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    const proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    child = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitFor(async () => exited || (await portAccepts(port)), { timeoutMs: 5000, what: `mosquitto on port ${port}` });
    if (exited) throw new Error(`mosquitto exited at start: ${stderr}`);
  };
  const terminate = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill(signal);
    await exited;
  };

  await launch();
  return {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    ...(wsPort !== undefined ? { wsUrl: `${opts.tls ? 'wss' : 'ws'}://127.0.0.1:${wsPort}` } : {}),
    stop: () => terminate('SIGTERM'),
    setPasswords: async (passwords) => {
      writePasswords(passwords);
      child?.kill('SIGHUP');
      // The reload is not acknowledged; a fresh client with the new password is the proof.
      await waitFor(() => passwordAccepted(port, passwords), { what: 'mosquitto reloaded its password file' });
    },
    restart: async () => {
      await terminate('SIGTERM');
      await launch();
    },
    kill: async () => {
      await terminate('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the broker on `port` accepts the first user of `passwords` with its password (MQTT 3.1.1 CONNACK 0). */
async function passwordAccepted(port: number, passwords: Record<string, string>): Promise<boolean> {
  const [user, password] = Object.entries(passwords)[0] ?? [];
  if (user === undefined) return true;
  const client = await connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, username: user, password, reconnectPeriod: 0, connectTimeout: 1000 }).catch(() => undefined);
  if (!client) return false;
  await client.endAsync(true);
  return true;
}

/** Listener lines for a TLS listener; the PEM files are copied into `dir`, readable by the mosquitto user. */
function tlsLines(tls: MosquittoTls, dir: string): string[] {
  const copy = (name: string, from: string) => {
    const to = path.join(dir, name);
    fs.copyFileSync(from, to);
    fs.chmodSync(to, 0o644); // a throwaway test key; the broker may read it after dropping root
    return to;
  };
  return [
    `cafile ${copy('tls-ca.pem', tls.cafile)}`,
    `certfile ${copy('tls-cert.pem', tls.certfile)}`,
    `keyfile ${copy('tls-key.pem', tls.keyfile)}`,
    `require_certificate ${tls.requireCertificate ?? true}`,
    `use_identity_as_username ${tls.useIdentityAsUsername ?? true}`,
  ];
}
