/**
 * A real RabbitMQ with its MQTT plugin (Debian's rabbitmq-server, 3.10.8 on bookworm) on
 * free loopback ports, for the few tests that need the broker itself. Takes ~10 s to start.
 * It gets its own epmd, started here in the foreground on a free port (erl finds it and
 * starts no daemon of its own), so teardown kills every process it started by pid. `rabbitmqAvailable()` is false when the package is not installed (tests skip).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, portAccepts } from './mosquitto';
import { waitFor } from './wait';

const SERVER = process.env.RABBITMQ_SERVER_BIN ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = '/usr/bin/epmd';

export const rabbitmqAvailable = (): boolean => fs.existsSync(SERVER) && fs.existsSync(EPMD);

export interface RabbitMq {
  url: string;
  port: number;
  kill(): Promise<void>;
}

export async function startRabbitMq(): Promise<RabbitMq> {
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-rabbitmq-'));
  fs.chmodSync(dir, 0o777);
  fs.writeFileSync(
    path.join(dir, 'rabbitmq.conf'),
    ['listeners.tcp = none', `mqtt.listeners.tcp.default = 127.0.0.1:${port}`, 'mqtt.allow_anonymous = true', 'loopback_users = none', ''].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_mqtt].\n');
  const env = {
    ...process.env,
    HOME: dir,
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `fgtest${port}@localhost`,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
  };
  const epmd: ChildProcess = spawn(EPMD, ['-port', String(epmdPort)], { env, stdio: 'ignore' });
  await waitFor(() => portAccepts(epmdPort), { what: `epmd on ${epmdPort}` }).catch((err: unknown) => {
    epmd.kill('SIGKILL');
    throw err;
  });
  // Its own process group, so the shell wrapper and beam.smp go together.
  const child: ChildProcess = spawn(SERVER, [], { env, detached: true, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  const kill = async () => {
    if (!exited && child.pid !== undefined) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid, 'SIGKILL');
      await gone;
    }
    if (epmd.exitCode === null && epmd.signalCode === null) {
      const gone = new Promise((resolve) => epmd.once('exit', resolve));
      epmd.kill('SIGKILL');
      await gone;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => exited || (await portAccepts(port)), { timeoutMs: 60_000, intervalMs: 200, what: `rabbitmq MQTT listener on ${port}` });
    if (exited) throw new Error('rabbitmq-server exited at start');
  } catch (err) {
    await kill();
    throw err;
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, kill };
}
