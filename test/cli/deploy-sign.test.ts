import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { tempDir } from '../helpers/daemon';
import { captureIO } from './capture-io';

const RULE_A = 'rules:\n  - id: a\n    when: tank.level < 10\n    then:\n      - event: { severity: warning, message: "a" }\n';
const RULE_B = 'rules:\n  - id: b\n    when: tank.level > 90\n    then:\n      - event: { severity: warning, message: "b" }\n';

function files() {
  const dir = tempDir('fg-sign-');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  fs.writeFileSync(path.join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(path.join(dir, 'b.yaml'), RULE_B);
  fs.writeFileSync(path.join(dir, 'a.yaml'), RULE_A);
  return { dir, publicKey };
}

test('deploy sign: the bundle holds each file with its sha256 and a signature over the documented message', async () => {
  const { dir, publicKey } = files();
  const io = captureIO();
  const code = await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', '12', '--label', 'spring', path.join(dir, 'b.yaml'), path.join(dir, 'a.yaml')], io);
  assert.equal(code, 0, io.stderr());
  const b = JSON.parse(io.stdout()) as { id: string; version: number; label: string; rules: { name: string; text: string; sha256: string }[]; signature: string };
  assert.equal(b.id, 'deploy-12');
  assert.deepEqual(b.rules.map((r) => r.name), ['b.yaml', 'a.yaml']);
  assert.equal(b.rules[1].text, RULE_A);
  const shaA = crypto.createHash('sha256').update(RULE_A).digest('hex');
  const shaB = crypto.createHash('sha256').update(RULE_B).digest('hex');
  assert.equal(b.rules[1].sha256, shaA);
  // The signed bytes as docs/operations.md writes them: files sorted by name.
  const message = `fieldgate-deploy v1\nversion 12\nlabel spring\nrules a.yaml ${shaA}\nrules b.yaml ${shaB}\n`;
  assert.ok(crypto.verify(null, Buffer.from(message), publicKey, Buffer.from(b.signature, 'base64')));

  // `deploy message` prints those bytes, and openssl (the documented route) verifies the signature over them.
  fs.writeFileSync(path.join(dir, 'bundle.json'), io.stdout());
  const io2 = captureIO();
  assert.equal(await main(['deploy', 'message', path.join(dir, 'bundle.json')], io2), 0, io2.stderr());
  assert.equal(io2.stdout(), message);
  fs.writeFileSync(path.join(dir, 'msg'), io2.stdout());
  fs.writeFileSync(path.join(dir, 'sig'), Buffer.from(b.signature, 'base64'));
  const out = execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(dir, 'pub.pem'), '-rawin', '-in', path.join(dir, 'msg'), '-sigfile', path.join(dir, 'sig')]).toString();
  assert.match(out, /Signature Verified Successfully/);
});

test('deploy sign: a non-Ed25519 key, a missing file and two files of one name are refused', async () => {
  const { dir } = files();
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  fs.writeFileSync(path.join(dir, 'rsa.pem'), rsa.export({ type: 'pkcs8', format: 'pem' }));
  let io = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'rsa.pem'), '--version', '1', path.join(dir, 'a.yaml')], io), 1);
  assert.equal(io.stderr(), `${path.join(dir, 'rsa.pem')}: a rsa key; deploy bundles are signed with Ed25519\n`);
  io = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', '1', path.join(dir, 'nope.yaml')], io), 1);
  assert.match(io.stderr(), /^fieldgate deploy: ENOENT/);
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'a.yaml'), RULE_B);
  io = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', '1', path.join(dir, 'a.yaml'), path.join(dir, 'sub', 'a.yaml')], io), 1);
  assert.equal(io.stderr(), 'fieldgate deploy: rules[1].name: a.yaml appears twice\n');
  io = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', 'x', path.join(dir, 'a.yaml')], io), 2);
});

test('deploy sign --confirm / --confirm-window: carried in the bundle (outside the signature), checked as the gateway checks them', async () => {
  const { dir, publicKey } = files();
  const io = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', '3', '--confirm', 'auto', '--confirm-window', '30s', path.join(dir, 'a.yaml')], io), 0, io.stderr());
  const b = JSON.parse(io.stdout()) as { confirm: string; confirmWindow: string; signature: string };
  assert.deepEqual([b.confirm, b.confirmWindow], ['auto', '30s']);
  const message = `fieldgate-deploy v1\nversion 3\nlabel \nrules a.yaml ${crypto.createHash('sha256').update(RULE_A).digest('hex')}\n`;
  assert.ok(crypto.verify(null, Buffer.from(message), publicKey, Buffer.from(b.signature, 'base64')));
  const bad = captureIO();
  assert.equal(await main(['deploy', 'sign', '--key', path.join(dir, 'key.pem'), '--version', '3', '--confirm-window', '2', path.join(dir, 'a.yaml')], bad), 1);
  assert.equal(bad.stderr(), 'fieldgate deploy: confirmWindow must be a duration with a unit from "1s" to "1h" (e.g. "2m")\n');
});
