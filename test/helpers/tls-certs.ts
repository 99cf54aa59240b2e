/**
 * A throwaway PKI for TLS tests, made with the openssl command line: a CA, a server
 * certificate for 127.0.0.1 and a client certificate signed by that CA, plus a second CA
 * that signed nothing of ours (to provoke a verification error). EC P-256 keys, so the whole
 * set takes a few tens of milliseconds. Call it once per test file (in before()).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OPENSSL_BIN = process.env.OPENSSL_BIN ?? '/usr/bin/openssl';

export interface TestPki {
  dir: string;
  /** CA certificate that signed server and client certificates. */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate with CN = clientName (mosquitto's use_identity_as_username sees it as the username). */
  clientCert: string;
  clientKey: string;
  clientName: string;
  /** A CA that signed neither certificate. */
  otherCaCert: string;
  /** Removes the directory. */
  remove(): void;
}

export function makeTestPki(clientName = 'fieldgate-test-client'): TestPki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync(OPENSSL_BIN, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file(name));
  // Extensions live in a file of our own, so the host's openssl.cnf defaults do not matter.
  fs.writeFileSync(
    file('ext.cnf'),
    [
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '[server]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1',
      'authorityKeyIdentifier = keyid',
      '[client]',
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid',
      '',
    ].join('\n'),
  );
  const selfSignedCa = (name: string, cn: string) => {
    ecKey(`${name}.key`);
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${cn}`, '-out', file(`${name}.csr`));
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-signkey', file(`${name}.key`), '-days', '2', '-extfile', file('ext.cnf'), '-extensions', 'ca', '-out', file(`${name}.crt`));
  };
  const signed = (name: string, cn: string, section: 'server' | 'client') => {
    ecKey(`${name}.key`);
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${cn}`, '-out', file(`${name}.csr`));
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('ext.cnf'), '-extensions', section, '-out', file(`${name}.crt`));
  };
  try {
    selfSignedCa('ca', 'fieldgate test CA');
    signed('server', '127.0.0.1', 'server');
    signed('client', clientName, 'client');
    selfSignedCa('other-ca', 'fieldgate unrelated CA');
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl failed: ${stderr || String(err)}`);
  }
  // A throwaway key pair: world-readable so a broker that dropped root privileges can read it.
  fs.chmodSync(dir, 0o755);
  for (const name of fs.readdirSync(dir)) fs.chmodSync(file(name), 0o644);
  return {
    dir,
    caCert: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    clientName,
    otherCaCert: file('other-ca.crt'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
