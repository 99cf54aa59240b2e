import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Stand-ins on PATH for tools install.sh runs where a test cannot run the real one
 * (no systemd as PID 1, no registry). Each records its arguments in one log and
 * answers as the real tool does in the situation named:
 *
 *   systemctl   a box where fieldgate is not running: `is-active` exits 3 ("inactive",
 *               silent with --quiet), every other verb succeeds (exit 0)
 *   npm         (with offlineNpm) a box without the registry: exits 1 with ENOTCACHED
 */
export function toolShims(dir: string, opts: { offlineNpm?: boolean } = {}): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = path.join(dir, 'shim-bin');
  const log = path.join(dir, 'shim-calls.log');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'systemctl'),
    `#!/bin/sh
echo "systemctl $*" >> '${log}'
case "$1" in
  is-active) case " $* " in *" --quiet "*) ;; *) echo inactive ;; esac; exit 3 ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  if (opts.offlineNpm) {
    fs.writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> '${log}'\necho "npm error code ENOTCACHED" >&2\nexit 1\n`, { mode: 0o755 });
  }
  return {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trimEnd().split('\n') : []),
  };
}
