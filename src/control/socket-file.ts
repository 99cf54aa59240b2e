/**
 * The control socket as a file: stale-socket detection before listen, and the
 * permissions (mode 0660, optional group) that decide who may talk to the daemon.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const SOCKET_MODE = 0o660;

/** Resolves a group name (or a numeric gid) to a gid by reading /etc/group. */
export function resolveGroupId(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  const text = fs.readFileSync(groupFile, 'utf8');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  throw new Error(`control socket group "${group}" does not exist (not in ${groupFile})`);
}

/** True when something accepts connections on socketPath. */
export function socketAnswers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // a hung daemon still owns the socket
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/**
 * Makes socketPath free for listen(): creates the parent directory, and removes a
 * stale socket file left by a crashed daemon. Refuses when another daemon answers
 * on it, or when the path is something other than a socket.
 */
export async function prepareSocketPath(socketPath: string): Promise<'fresh' | 'removed-stale'> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o750 });
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'fresh';
    throw err;
  }
  if (!st.isSocket()) throw new Error(`control socket path ${socketPath} exists and is not a socket; refusing to remove it`);
  if (await socketAnswers(socketPath)) {
    throw new Error(`another fieldgate daemon is running (socket ${socketPath})`);
  }
  fs.unlinkSync(socketPath);
  return 'removed-stale';
}

/**
 * server.listen(socketPath) with the socket file created at `mode`: bind(2) makes
 * it 0777 & ~umask, so the umask is narrowed around the call — listen() on a path
 * binds synchronously in the calling thread — and restored at once. Nobody outside
 * `mode` can connect in the moment before a chmod.
 */
export function listenWithMode(server: net.Server, socketPath: string, mode: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const previous = process.umask(0o777 & ~mode);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
}

/** chmod 0660 (idempotent after listenWithMode) and, when a group is configured, chown to that group. */
export function applySocketPermissions(socketPath: string, group: string | undefined, groupFile?: string): void {
  fs.chmodSync(socketPath, SOCKET_MODE);
  if (group !== undefined) fs.chownSync(socketPath, -1, resolveGroupId(group, groupFile));
}
