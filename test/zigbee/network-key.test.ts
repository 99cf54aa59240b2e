import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadOrCreateNetworkKey } from '../../drivers/zigbee/network-key';

function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-zbkey-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('first start creates a random 16-byte key with mode 0600; later starts read the same key', (t) => {
  const file = path.join(tmpDir(t), 'zigbee', 'network-key');
  const first = loadOrCreateNetworkKey(file);
  assert.equal(first.created, true);
  assert.equal(first.key.length, 16);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(file, 'utf8').trim(), Buffer.from(first.key).toString('hex'));
  const again = loadOrCreateNetworkKey(file);
  assert.equal(again.created, false);
  assert.deepEqual(again.key, first.key);
  assert.equal(again.warning, undefined);
});

test('a malformed key file is an error (never silently replaced); a world-readable one is a warning', (t) => {
  const dir = tmpDir(t);
  const bad = path.join(dir, 'bad');
  fs.writeFileSync(bad, 'not-a-key\n', { mode: 0o600 });
  assert.throws(() => loadOrCreateNetworkKey(bad), /must hold exactly 32 hex digits/);
  assert.equal(fs.readFileSync(bad, 'utf8'), 'not-a-key\n');
  const open = path.join(dir, 'open');
  fs.writeFileSync(open, '000102030405060708090a0b0c0d0e0f\n');
  fs.chmodSync(open, 0o644);
  const r = loadOrCreateNetworkKey(open);
  assert.deepEqual(r.key, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  assert.match(r.warning ?? '', /mode 0644; run chmod 600/);
});
