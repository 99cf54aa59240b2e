import type { CliIO } from '../../src/cli/command';

/** A CliIO that records stdout and stderr. */
export function captureIO(opts: { isTTY?: boolean; env?: NodeJS.ProcessEnv } = {}): CliIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    confirm: async () => false,
    stdout: () => out,
    stderr: () => err,
  };
}
