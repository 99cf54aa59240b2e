import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeAdvertisement, decodeAtc, decodeBthome, decodePvvx, decodeRuuvi, type DecodeResult } from '../../drivers/ble/decoders';
import type { Advertisement } from '../../drivers/ble/radio';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function ok(r: DecodeResult) {
  assert.ok(r.ok, `expected a decoded result, got ${JSON.stringify(r)}`);
  return r;
}
function rejected(r: DecodeResult, kind: string) {
  assert.equal(r.ok, false, `expected a rejection, got ${JSON.stringify(r)}`);
  assert.equal(r.kind, kind, r.error);
  return r;
}

// --- BTHome v2: examples from https://bthome.io/format/ -------------------------

test('bthome: temperature 0x02 and humidity 0x03 (spec example 40 02CA09 03BF13)', () => {
  const r = ok(decodeBthome(hex('40 02ca09 03bf13')));
  assert.deepEqual(r.values, { temperature: 25.06, humidity: 50.55 });
});

test('bthome: packet id, battery, pressure, illuminance, voltage, power from spec examples', () => {
  const r = ok(decodeBthome(hex('40 0009 0161 04138a01 05138a14 0c020c 0b021b00')));
  assert.deepEqual(r.values, { packetId: 9, battery: 97, pressure: 1008.83, illuminance: 13460.67, voltage: 3.074, power: 69.14 });
  assert.equal(r.sequence, 9);
});

test('bthome: motion binary, temperature 0.1 (0x45), count uint16 (0x3d), negative temperature', () => {
  assert.deepEqual(ok(decodeBthome(hex('40 2101 451101 3d0960'))).values, { motion: 1, temperature: 27.3, count: 24585 });
  // -5.50 °C = -550 = 0xFDDA, little-endian DA FD
  assert.deepEqual(ok(decodeBthome(hex('40 02dafd'))).values, { temperature: -5.5 });
});

test('bthome: trigger-based flag (0x44) decodes like 0x40; text object 0x53 is skipped by its length', () => {
  assert.deepEqual(ok(decodeBthome(hex('44 1a01'))).values, { door: 1 });
  assert.deepEqual(ok(decodeBthome(hex('40 53 03 414243 0161'))).values, { battery: 97 });
});

test('bthome: stops cleanly at an unknown object id and keeps what came before', () => {
  const r = ok(decodeBthome(hex('40 02ca09 fe 0102')));
  assert.deepEqual(r.values, { temperature: 25.06 });
  assert.match(r.warning ?? '', /unknown object id 0xfe at byte 4/);
});

test('bthome: rejects encrypted, other versions, truncated and garbage payloads', () => {
  rejected(decodeBthome(hex('41 02ca09')), 'encrypted');
  rejected(decodeBthome(hex('20 02ca09')), 'unsupported'); // version 1
  rejected(decodeBthome(hex('')), 'truncated');
  rejected(decodeBthome(hex('40 02ca')), 'truncated');
  rejected(decodeBthome(hex('40 04138a')), 'truncated');
  rejected(decodeBthome(hex('40 53 09 41')), 'truncated');
  rejected(decodeBthome(hex('40 ffffff')), 'garbage');
});

// --- Ruuvi RAWv2: test vectors from docs.ruuvi.com data-format-5-rawv2 ---------

test('ruuvi: valid vector 0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F', () => {
  const r = ok(decodeRuuvi(hex('9904 0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F')));
  assert.deepEqual(r.values, {
    temperature: 24.3,
    humidity: 53.49,
    pressure: 1000.44, // 100044 Pa
    accelerationX: 4,
    accelerationY: -4,
    accelerationZ: 1036,
    voltage: 2.977,
    txPower: 4,
    movementCounter: 66,
    sequence: 205,
  });
  assert.equal(r.mac, 'cb:b8:33:4c:88:4f');
  assert.equal(r.sequence, 205);
});

test('ruuvi: maximum vector', () => {
  const r = ok(decodeRuuvi(hex('9904 057FFFFFFEFFFE7FFF7FFF7FFFFFDEFEFFFECBB8334C884F')));
  assert.deepEqual(r.values, {
    temperature: 163.835,
    humidity: 163.835,
    pressure: 1155.34, // 115534 Pa
    accelerationX: 32767,
    accelerationY: 32767,
    accelerationZ: 32767,
    voltage: 3.646,
    txPower: 20,
    movementCounter: 254,
    sequence: 65534,
  });
});

test('ruuvi: minimum vector', () => {
  const r = ok(decodeRuuvi(hex('9904 058001000000008001800180010000000000CBB8334C884F')));
  assert.deepEqual(r.values, {
    temperature: -163.835,
    humidity: 0,
    pressure: 500, // 50000 Pa
    accelerationX: -32767,
    accelerationY: -32767,
    accelerationZ: -32767,
    voltage: 1.6,
    txPower: -40,
    movementCounter: 0,
    sequence: 0,
  });
});

test('ruuvi: invalid vector leaves every field absent', () => {
  const r = ok(decodeRuuvi(hex('9904 058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF')));
  assert.deepEqual(r.values, {});
  assert.equal(r.mac, undefined);
  assert.equal(r.sequence, undefined);
});

test('ruuvi: rejects truncated, other formats and other companies', () => {
  rejected(decodeRuuvi(hex('9904 0512FC5394C37C0004FFFC040CAC364200CDCBB8334C88')), 'truncated');
  rejected(decodeRuuvi(hex('9904')), 'truncated');
  rejected(decodeRuuvi(hex('9904 03291A1ECE1EFC18F94202CA0B53')), 'unsupported'); // format 3
  rejected(decodeRuuvi(hex('4c00 0215')), 'absent'); // Apple iBeacon
});

// --- ATC1441 and pvvx: bytes computed by hand from the field layout -------------

test('atc1441: 13 bytes big-endian: MAC, 23.4 °C, 45 %, 87 %, 2950 mV, counter 18', () => {
  // temp 234 = 0x00EA, battery 2950 mV = 0x0B86
  const r = ok(decodeAtc(hex('a4c138123456 00ea 2d 57 0b86 12')));
  assert.deepEqual(r.values, { temperature: 23.4, humidity: 45, battery: 87, voltage: 2.95, count: 18 });
  assert.equal(r.mac, 'a4:c1:38:12:34:56');
  // -5.3 °C = -53 = 0xFFCB
  assert.equal(ok(decodeAtc(hex('a4c138123456 ffcb 2d 57 0b86 13'))).values.temperature, -5.3);
});

test('pvvx: 15 bytes little-endian: reversed MAC, 23.45 °C, 51.2 %, 2950 mV, 87 %, counter 18', () => {
  // temp 2345 = 0x0929 → 29 09; humidity 5120 = 0x1400 → 00 14; 2950 mV = 0x0B86 → 86 0b
  const r = ok(decodePvvx(hex('563412 38c1a4 2909 0014 860b 57 12 05')));
  assert.deepEqual(r.values, { temperature: 23.45, humidity: 51.2, voltage: 2.95, battery: 87, count: 18 });
  assert.equal(r.mac, 'a4:c1:38:12:34:56');
  // -12.34 °C = -1234 = 0xFB2E → 2e fb
  assert.equal(ok(decodePvvx(hex('563412 38c1a4 2efb 0014 860b 57 13 05'))).values.temperature, -12.34);
});

test('atc/pvvx: truncated, wrong length and out-of-range garbage are rejected', () => {
  rejected(decodeAtc(hex('a4c138123456 00ea 2d')), 'truncated');
  rejected(decodeAtc(hex('a4c138123456 00ea ff ff 0b86 12')), 'garbage');
  rejected(decodePvvx(hex('563412 38c1a4 2909 0014')), 'truncated');
  rejected(decodePvvx(hex('563412 38c1a4 2909 ffff 860b ff 12 05')), 'garbage');
  rejected(decodePvvx(hex('563412 38c1a4 2909 0014 860b 57 12 05 00')), 'garbage');
});

// --- auto detection ---------------------------------------------------------------

function adv(partial: Partial<Advertisement>): Advertisement {
  return { address: 'a4:c1:38:12:34:56', rssi: -70, serviceData: [], ts: 0, ...partial };
}

test('auto: picks BTHome, Ruuvi, ATC or pvvx from the payload; reports absence', () => {
  assert.equal(ok(decodeAdvertisement(adv({ serviceData: [{ uuid: 'fcd2', data: hex('40 0161') }] }))).format, 'bthome');
  assert.equal(ok(decodeAdvertisement(adv({ manufacturerData: hex('9904 0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F') }))).format, 'ruuvi');
  assert.equal(ok(decodeAdvertisement(adv({ serviceData: [{ uuid: '181a', data: hex('a4c138123456 00ea 2d 57 0b86 12') }] }))).format, 'atc');
  assert.equal(ok(decodeAdvertisement(adv({ serviceData: [{ uuid: '181a', data: hex('563412 38c1a4 2909 0014 860b 57 12 05') }] }))).format, 'pvvx');
  rejected(decodeAdvertisement(adv({ serviceData: [{ uuid: '181a', data: hex('0102') }] })), 'truncated');
  rejected(decodeAdvertisement(adv({})), 'absent');
  rejected(decodeAdvertisement(adv({}), 'ruuvi'), 'absent');
});

test('decoders never throw on random bytes', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let n = 0; n < 2000; n++) {
    const buf = Buffer.from(Array.from({ length: n % 30 }, rnd));
    for (const f of [decodeBthome, decodeRuuvi, decodeAtc, decodePvvx]) assert.doesNotThrow(() => f(buf));
  }
});

// --- Encrypted pvvx/ATC custom beacons (pvvx/ATC_MiThermometer src/custom_beacon.c:
// AES-CCM, 4-byte MIC, AAD 0x11, nonce = MAC (LSB first) + the AD header: size, 0x16,
// 1a 18, counter). Vector from custom-components/ble_monitor tests/test_atc_parser.py
// test_atc_custom_encrypted (HCI 043e1b02010000 b2188d38c1a4 0f 0e161a18 11d603fbfa7b6dfb1e26fd e2).

test('pvvx encrypted: 11 bytes of 0x181A service data decrypt with the bindkey (ble_monitor vector)', () => {
  const adv: Advertisement = { address: 'a4:c1:38:8d:18:b2', rssi: -30, serviceData: [{ uuid: '181a', data: hex('11 d603fbfa7b6d fb1e26fd') }], ts: 0 };
  const r = ok(decodeAdvertisement(adv, 'auto', { bindkey: hex('b9ea895fac7eea6d30532432a516f3a3') }));
  assert.equal(r.format, 'pvvx');
  assert.deepEqual(r.values, { temperature: 23.45, humidity: 41.73, battery: 61, count: 17 });
  assert.equal(r.sequence, 17);
  assert.equal(r.encrypted, true);
  assert.equal(ok(decodeAdvertisement(adv, 'pvvx', { bindkey: hex('b9ea895fac7eea6d30532432a516f3a3') })).values.temperature, 23.45);
});

test('pvvx/ATC encrypted without a bindkey, or with a wrong one, is refused as such — not as "truncated"', () => {
  const adv: Advertisement = { address: 'a4:c1:38:8d:18:b2', rssi: -30, serviceData: [{ uuid: '181a', data: hex('11 d603fbfa7b6d fb1e26fd') }], ts: 0 };
  const noKey = decodeAdvertisement(adv);
  assert.ok(!noKey.ok && noKey.kind === 'encrypted' && /bindkey/.test(noKey.error), JSON.stringify(noKey));
  const wrong = decodeAdvertisement(adv, 'auto', { bindkey: hex('00112233445566778899aabbccddeeff') });
  assert.ok(!wrong.ok && wrong.kind === 'decrypt', JSON.stringify(wrong));
  const atc = decodeAdvertisement({ ...adv, serviceData: [{ uuid: '181a', data: hex('2a 01020304 05060708'.replace(/ /g, '').slice(0, 16)) }] });
  assert.ok(!atc.ok && atc.kind === 'encrypted', JSON.stringify(atc));
});
