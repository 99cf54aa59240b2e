import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { formatProblem } from '../../src/config/yaml-source';
import { main } from '../../src/cli/main';
import { captureIO } from '../cli/capture-io';
import { tempDir } from '../helpers/temp';
import { makeTestPki, type TestPki } from '../helpers/tls-certs';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = path.join(ROOT, 'config/gateway.example.yaml');

let pki: TestPki;
before(() => {
  pki = makeTestPki();
});
after(() => pki.remove());

/** A gateway config in `dir` whose uplink block is `uplink` (indented by two spaces). */
function writeConfig(dir: string, uplink: string): string {
  const file = path.join(dir, 'gateway.yaml');
  fs.writeFileSync(
    file,
    `gateway: { id: gw }
uplink:
  brokers: [mqtts://127.0.0.1:8883]
${uplink}drivers:
  - kind: sim
    id: sim
    sensors:
      - { id: a, waveform: sine }
`,
  );
  return file;
}

function problems(file: string): string[] {
  const res = loadConfigFile(file);
  return res.ok ? [] : res.problems.map(formatProblem);
}

test('the example config as install.sh copies it names a password file and a CA that do not exist yet', () => {
  // gateway.example.yaml line 23 "  passwordFile: /etc/fieldgate/mqtt-password": value at column 17;
  // line 26 (after the passwordCommand comment) "    ca: /etc/fieldgate/ca.pem": value at column 9. Neither file exists on a build machine.
  assert.equal(fs.existsSync('/etc/fieldgate/mqtt-password'), false, 'precondition: no /etc/fieldgate/mqtt-password here');
  assert.deepEqual(problems(EXAMPLE), [
    `${EXAMPLE}:23:17: uplink.passwordFile: /etc/fieldgate/mqtt-password does not exist; create it with the broker password on its first line (chgrp fieldgate FILE; chmod 0640 FILE), or remove this key`,
    `${EXAMPLE}:26:9: uplink.tls.ca: /etc/fieldgate/ca.pem does not exist; copy the PEM certificate there, or remove this key`,
  ]);
});

test('a config whose password file and TLS files exist and hold what they should is valid', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'pw'), 's3cret\n');
  const file = writeConfig(
    dir,
    `  passwordFile: ${dir}/pw\n  tls: { ca: ${pki.caCert}, cert: ${pki.clientCert}, key: ${pki.clientKey} }\n`,
  );
  assert.deepEqual(problems(file), []);
});

test('an empty password file, a directory as CA, a key as certificate and a certificate as key are each one positioned line', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'pw'), '\nsecond line is not used\n');
  const file = writeConfig(dir, `  passwordFile: ${dir}/pw\n  tls:\n    ca: ${dir}\n    cert: ${pki.clientKey}\n    key: ${pki.clientCert}\n`);
  // Lines 4..8 of the file; values start after "  passwordFile: " (col 17), "    ca: " (col 9),
  // "    cert: " (col 11), "    key: " (col 10).
  assert.deepEqual(problems(file), [
    `${file}:4:17: uplink.passwordFile: ${dir}/pw has an empty first line; put the broker password there`,
    `${file}:6:9: uplink.tls.ca: ${dir} is not a regular file`,
    `${file}:7:11: uplink.tls.cert: ${pki.clientKey} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`,
    `${file}:8:10: uplink.tls.key: ${pki.clientCert} holds no PEM private key (no "-----BEGIN ... PRIVATE KEY-----" line)`,
  ]);
});

test('a password file larger than 4096 bytes is refused before it is read', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'pw'), 'x'.repeat(4097));
  const file = writeConfig(dir, `  passwordFile: ${dir}/pw\n`);
  assert.deepEqual(problems(file), [`${file}:4:17: uplink.passwordFile: ${dir}/pw is 4097 bytes, more than the 4096 a password file may have`]);
});

test('a client certificate without its key is an error at the cert key', (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `  tls:\n    cert: ${pki.clientCert}\n`);
  assert.deepEqual(problems(file), [`${file}:5:11: uplink.tls.cert: mutual TLS needs the client key too; add uplink.tls.key`]);
});

test('fieldgate config check reports a missing password file as one FILE:LINE:COL line and exits 1', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `  passwordFile: ${dir}/missing\n`);
  const io = captureIO();
  assert.equal(await main(['config', 'check', file], io), 1);
  assert.equal(io.stdout(), '');
  assert.equal(
    io.stderr(),
    `${file}:4:17: uplink.passwordFile: ${dir}/missing does not exist; create it with the broker password on its first line (chgrp fieldgate FILE; chmod 0640 FILE), or remove this key\n1 error(s) in ${file}\n`,
  );
});

test('fieldgate run refuses the same config with the same line and no stack trace, before starting anything', async (t) => {
  const dir = tempDir(t);
  const file = writeConfig(dir, `  passwordFile: ${dir}/missing\n`);
  const io = captureIO();
  assert.equal(await main(['run', '--config', file, '--state', path.join(dir, 'state'), '--socket', path.join(dir, 'sock')], io), 1);
  assert.equal(io.stdout(), '');
  const lines = io.stderr().trimEnd().split('\n');
  assert.equal(lines.length, 2, io.stderr());
  assert.match(lines[0], new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4:17: uplink\\.passwordFile: .*missing does not exist`));
  assert.equal(lines[1], `fieldgate: 1 error(s) in ${file}; not starting`);
  assert.equal(fs.existsSync(path.join(dir, 'state')), false, 'nothing created');
});
