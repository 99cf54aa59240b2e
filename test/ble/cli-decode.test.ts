import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bleCommand } from '../../src/cli/ble';
import type { CliIO } from '../../src/cli/command';
import { EXIT } from '../../src/cli/command';

function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY: false, env: {}, confirm: async () => false };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

async function decode(...argv: string[]) {
  const c = captureIO();
  const code = await bleCommand.run(['decode', ...argv], c.io);
  return { code, out: c.out(), err: c.err() };
}

// Vectors: bthome-ble tests/test_parser_v2.py (Shelly BLU H&T, bindkey_correct), docs.ruuvi.com RAWv2.

test('ble decode: a raw advertisement as nRF Connect shows it (AD structures) decodes every field', async () => {
  // 02 01 06 (flags) | 0f 16 d2fc 40 002e 0164 1e01 2e34 451601 (service data 0xFCD2, 12 bytes incl. type)
  const r = await decode('0201060f16d2fc40002e01641e012e34451601');
  assert.equal(r.code, EXIT.OK, r.err);
  assert.equal(r.out, 'format: bthome\npacketId: 46\nbattery: 100\nlight: 1\nhumidity: 52\ntemperature: 27.8\n');
});

test('ble decode --uuid: service data alone; --manufacturer: manufacturer data after the company id', async () => {
  const b = await decode('--uuid', 'fcd2', '4002ca0903bf13');
  assert.equal(b.out, 'format: bthome\ntemperature: 25.06\nhumidity: 50.55\n');
  const ruuvi = await decode('--manufacturer', '0499', '0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', '--json');
  assert.equal(ruuvi.code, EXIT.OK, ruuvi.err);
  const j = JSON.parse(ruuvi.out) as { ok: boolean; format: string; values: Record<string, number>; mac: string };
  assert.deepEqual([j.ok, j.format, j.values.temperature, j.values.pressure, j.mac], [true, 'ruuvi', 24.3, 1000.44, 'cb:b8:33:4c:88:4f']);
});

test('ble decode --key --address: an encrypted BTHome frame; without the key it says why it was refused', async () => {
  const frame = ['--uuid', 'fcd2', '41a47266c95f730011223378237214', '--address', '54:48:E6:8F:80:A5'];
  const ok = await decode(...frame, '--key', '231d39c1d7cc1ab1aee224cd096db932');
  assert.equal(ok.out, 'format: bthome (encrypted)\ntemperature: 25.06\nhumidity: 50.55\nsequence: 857870592\n');
  const refused = await decode(...frame);
  assert.equal(refused.code, EXIT.FAIL);
  assert.match(refused.out, /^refused \(encrypted\): BTHome: payload is encrypted: set `bindkey`/);
});

test('ble decode: bad input is refused before any work, with what to type', async () => {
  await assert.rejects(bleCommand.run(['decode', 'xyz'], captureIO().io), /HEX must be hexadecimal bytes/);
  await assert.rejects(bleCommand.run(['decode', 'ab'.repeat(2000)], captureIO().io), /at most 1650 bytes/);
  await assert.rejects(bleCommand.run(['decode', '--uuid', 'fcd2', '--manufacturer', '0499', '00'], captureIO().io), /either --uuid or --manufacturer/);
  await assert.rejects(bleCommand.run(['decode', '--key', '00', '--uuid', 'fcd2', '41'], captureIO().io), /--key must be 32 hex digits/);
  const r = await decode('0201');
  assert.equal(r.code, EXIT.FAIL);
  assert.match(r.out, /refused \(truncated\): AD structure at byte 0 says 2 bytes, only 1 follow/);
});
