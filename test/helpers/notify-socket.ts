/** A unix datagram socket bound by python, standing in for systemd's notify socket. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './temp';
import { waitFor } from './wait';

const RECEIVER = `
import socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print('bound', flush=True)
while True:
    print(s.recv(4096).decode().replace('\\n', '|'), flush=True)
`;

export function collectLines(child: ChildProcess): string[] {
  const lines: string[] = [];
  let buf = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
  });
  return lines;
}

/** A datagram socket bound by python, standing in for systemd's notify socket. */
export async function notifySocket(t: TestContext, address?: string) {
  const addr = address ?? path.join(tempDir(t, 'fg-notify-', 0o755), 'notify.sock');
  const py = spawn('python3', ['-c', RECEIVER, addr], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => py.kill('SIGKILL'));
  const lines = collectLines(py);
  await waitFor(() => lines.includes('bound'), { what: 'receiver bound' });
  /** Messages received, without the receiver's own "bound" line and systemd-notify's BARRIER=1. */
  const messages = () => lines.filter((l) => l !== 'bound' && l !== 'BARRIER=1');
  return { addr, messages };
}

