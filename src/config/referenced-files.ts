import * as fs from 'node:fs';
import type { GatewayConfig } from './schema';
import type { ConfigPath, Problem } from './yaml-source';
import type { PositionedSource } from './zod-problems';

/**
 * Files a schema-valid config names — the uplink's password file and TLS files —
 * checked when the config is loaded (by `fieldgate config check` and by
 * `fieldgate run` before anything starts), so a missing or unreadable file is a
 * FILE:LINE:COL line pointing at the key, not an ENOENT stack trace when the
 * uplink first connects. Paths are checked exactly as the uplink opens them
 * (relative ones against the working directory; systemd's is /).
 *
 * Each file is stat'ed and bounded in size before a byte of it is read.
 */

/** A password file holds one line; a PEM bundle of a few hundred CAs fits in 1 MiB. */
export const MAX_PASSWORD_FILE_BYTES = 4096;
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

type Expect = 'password' | 'certificate' | 'private-key';

interface FileRef {
  path: ConfigPath;
  file: string;
  expect: Expect;
}

export function checkReferencedFiles(config: GatewayConfig, src: PositionedSource): Problem[] {
  const u = config.uplink;
  if (!u) return [];
  const refs: FileRef[] = [];
  if (u.passwordFile !== undefined) refs.push({ path: ['uplink', 'passwordFile'], file: u.passwordFile, expect: 'password' });
  if (u.tls?.ca !== undefined) refs.push({ path: ['uplink', 'tls', 'ca'], file: u.tls.ca, expect: 'certificate' });
  if (u.tls?.cert !== undefined) refs.push({ path: ['uplink', 'tls', 'cert'], file: u.tls.cert, expect: 'certificate' });
  if (u.tls?.key !== undefined) refs.push({ path: ['uplink', 'tls', 'key'], file: u.tls.key, expect: 'private-key' });

  const problems: Problem[] = [];
  for (const ref of refs) {
    const why = fileProblem(ref);
    if (why) problems.push(src.problem(ref.path, `${ref.path.join('.')}: ${why}`));
  }
  if (u.tls?.cert !== undefined && u.tls.key === undefined) {
    problems.push(src.problem(['uplink', 'tls', 'cert'], 'uplink.tls.cert: mutual TLS needs the client key too; add uplink.tls.key'));
  }
  if (u.tls?.key !== undefined && u.tls.cert === undefined) {
    problems.push(src.problem(['uplink', 'tls', 'key'], 'uplink.tls.key: mutual TLS needs the client certificate too; add uplink.tls.cert'));
  }
  return problems;
}

const HOW_TO_CREATE: Record<Expect, string> = {
  password: 'create it with the broker password on its first line (chgrp fieldgate FILE; chmod 0640 FILE)',
  certificate: 'copy the PEM certificate there',
  'private-key': 'copy the PEM private key there (chgrp fieldgate FILE; chmod 0640 FILE)',
};

/** Why `ref` cannot be used, or undefined when it can. */
function fileProblem(ref: FileRef): string | undefined {
  const { file, expect } = ref;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${file} does not exist; ${HOW_TO_CREATE[expect]}, or remove this key`;
    if (code === 'EACCES') return `${file}: permission denied on a directory above it`;
    return `${file}: ${code ?? String(err)}`;
  }
  if (!st.isFile()) return `${file} is not a regular file`;
  const limit = expect === 'password' ? MAX_PASSWORD_FILE_BYTES : MAX_PEM_FILE_BYTES;
  if (st.size > limit) return `${file} is ${st.size} bytes, more than the ${limit} a ${expect} file may have`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return `${file}: permission denied; the daemon runs as user fieldgate: chgrp fieldgate ${file}; chmod 0640 ${file}`;
    return `${file}: ${code ?? String(err)}`;
  }
  switch (expect) {
    case 'password':
      // The uplink uses the first line (connect-options.ts).
      return text.split(/\r?\n/)[0] === '' ? `${file} has an empty first line; put the broker password there` : undefined;
    case 'certificate':
      return text.includes('-----BEGIN CERTIFICATE-----') ? undefined : `${file} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`;
    case 'private-key':
      return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) ? undefined : `${file} holds no PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line)`;
  }
}
