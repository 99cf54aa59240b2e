import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BTHOME_OBJECTS, decodeBthome, type DecodeResult } from '../../drivers/ble/decoders';

// Vectors from Bluetooth-Devices/bthome-ble tests/test_parser_v2.py (commit d55bd3a), the
// reference parser behind Home Assistant's BTHome integration, and the object table of
// https://bthome.io/format/ (mirrored in bthome-ble's src/bthome_ble/const.py MEAS_TYPES).

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
function ok(r: DecodeResult) {
  assert.ok(r.ok, `expected a decoded result, got ${JSON.stringify(r)}`);
  return r;
}

test('bthome: a real Shelly BLU H&T frame decodes whole (test_shelly_blu_ht_display_zb)', () => {
  // 00 packet 46 | 01 battery 100 | 1e light 1 | 2e humidity 52 | 45 temperature 0x0116 / 10
  const r = ok(decodeBthome(hex('40 002e 0164 1e01 2e34 451601')));
  assert.deepEqual(r.values, { packetId: 46, battery: 100, light: 1, humidity: 52, temperature: 27.8 });
  assert.equal(r.warning, undefined);
});

test('bthome: a repeated object is a distinct value, in frame order (test_bthome_double_voltage_different_object_id)', () => {
  // 00 packet 1 | 0b power 0 | 4a voltage 0x090d / 10 = 231.7 | 01 battery 51 | 0c voltage 0x0ce9 / 1000 = 3.305
  const r = ok(decodeBthome(hex('40 0001 0b000000 4a0d09 0133 0ce90c')));
  assert.deepEqual(r.values, { packetId: 1, power: 0, voltage: 231.7, battery: 51 });
  assert.deepEqual(r.repeated, { voltage: [231.7, 3.305] });
  // test_bthome_double_temperature: 02 0x09ca = 25.06, 02 0x09cf = 25.11
  assert.deepEqual(ok(decodeBthome(hex('40 02ca09 02cf09'))).repeated, { temperature: [25.06, 25.11] });
});

test('bthome: the MAC-included flag (bit 1) carries the MAC, reversed (test_bthome_with_mac)', () => {
  const r = ok(decodeBthome(hex('42 b2188d38c1a4 04138a01')));
  assert.deepEqual(r.values, { pressure: 1008.83 });
  assert.equal(r.mac, 'a4:c1:38:8d:18:b2');
  assert.equal(decodeBthome(hex('42 b2188d38')).ok, false, 'too short for the MAC');
});

test('bthome: encrypted frames decrypt with the device bindkey (test_bindkey_correct, test_bthome_with_mac_encrypted)', () => {
  const bindkey = hex('231d39c1d7cc1ab1aee224cd096db932');
  const r = ok(decodeBthome(hex('41 a47266c95f73 00112233 78237214'), { address: '54:48:e6:8f:80:a5', bindkey }));
  assert.deepEqual(r.values, { temperature: 25.06, humidity: 50.55 });
  assert.equal(r.encrypted, true);
  assert.equal(r.sequence, 0x33221100, 'the encryption counter when there is no packet id');
  const m = ok(decodeBthome(hex('43 a5808fe64854 f196c06ffb49 00112233 f08ecbde'), { address: '00:00:00:00:00:00', bindkey }));
  assert.deepEqual(m.values, { temperature: 25.06, humidity: 50.55 });
  assert.equal(m.mac, '54:48:e6:8f:80:a5');
});

test('bthome: an encrypted Shelly BLU Button frame verifies with its bindkey (test_encrypted_shelly_blu_button_event)', () => {
  const r = decodeBthome(hex('450aeb84467f85ba0100003188788c'), { address: 'b4:35:22:f5:3d:a4', bindkey: hex('90bffd73cb6b26ef58a7a8eba9232036') });
  assert.ok(r.ok, JSON.stringify(r));
});

test('bthome: encrypted without a key, with a wrong key, or too short is refused with the reason', () => {
  const frame = hex('41 a47266c95f73 00112233 78237214');
  const noKey = decodeBthome(frame, { address: '54:48:e6:8f:80:a5' });
  assert.ok(!noKey.ok && noKey.kind === 'encrypted' && /bindkey/.test(noKey.error), JSON.stringify(noKey));
  // test_bindkey_wrong's key
  const wrong = decodeBthome(frame, { address: '54:48:e6:8f:80:a5', bindkey: hex('814aac74c4f17b6c1581e1ab87816b99') });
  assert.ok(!wrong.ok && wrong.kind === 'decrypt' && /wrong bindkey/.test(wrong.error), JSON.stringify(wrong));
  // the right key but another device's address: the nonce differs, so authentication fails
  assert.equal(decodeBthome(frame, { address: '54:48:e6:8f:80:a6', bindkey: hex('231d39c1d7cc1ab1aee224cd096db932') }).ok, false);
  const short = decodeBthome(hex('41 0011223344556677'), { address: '54:48:e6:8f:80:a5', bindkey: hex('231d39c1d7cc1ab1aee224cd096db932') });
  assert.ok(!short.ok && short.kind === 'truncated', JSON.stringify(short));
});

// Each previously missing object id with a value computed by hand from the bthome.io
// table (id, bytes little-endian, factor): raw × factor in our field's unit.
const NEW_OBJECTS: [string, Record<string, number>][] = [
  ['07 6400', { massLb: 1 }], // 100 × 0.01 lb
  ['16 01', { batteryCharging: 1 }],
  ['17 01', { carbonMonoxide: 1 }],
  ['18 01', { cold: 1 }],
  ['19 01', { connectivity: 1 }],
  ['1b 01', { garageDoor: 1 }],
  ['1c 01', { gasDetected: 1 }],
  ['1d 01', { heat: 1 }],
  ['1e 01', { light: 1 }],
  ['1f 01', { lock: 1 }],
  ['20 01', { moistureDetected: 1 }],
  ['24 01', { plug: 1 }],
  ['26 01', { problem: 1 }],
  ['27 01', { running: 1 }],
  ['28 01', { safety: 1 }],
  ['2a 01', { sound: 1 }],
  ['41 4e00', { distance: 7800 }], // 78 × 0.1 m = 7.8 m = 7800 mm (bthome-ble: 7.8 m)
  ['42 4e6100', { duration: 24.91 }], // 0x00614e = 24910 × 0.001 s
  ['47 8756', { volume: 2215.1 }], // 0x5687 = 22151 × 0.1 L
  ['48 dc87', { volume: 34.78 }], // 0x87dc = 34780 mL
  ['49 dc87', { flowRate: 34.78 }], // 34780 × 0.001 m³/h
  ['4b 138a14', { gas: 1346.067 }], // 0x148a13 = 1346067 × 0.001 m³
  ['4c 41018a01', { gas: 25821.505 }], // 0x018a0141 = 25821505 × 0.001 m³
  ['4e 87562a01', { volume: 19551.879 }], // 0x012a5687 = 19551879 × 0.001 L
  ['4f 87562a01', { water: 19551.879 }],
  ['50 5d396164', { timestamp: 1684093277 }], // 0x6461395d s since 1970
  ['51 8756', { acceleration: 22.151 }], // 22151 × 0.001 m/s²
  ['52 8756', { gyroscope: 22.151 }], // °/s
  ['55 87562a01', { volumeStorage: 19551.879 }],
  ['56 040c', { conductivity: 3076 }], // 0x0c04 µS/cm
  ['58 2e', { temperature: 16.1 }], // 46 × 0.35 °C
  ['58 d2', { temperature: -16.1 }], // int8 -46
  ['59 e3', { count: -29 }], // int8
  ['5a 0cfd', { count: -756 }], // int16 0xfd0c
  ['5b 0cfd1cf6', { count: -165872372 }], // int32 0xf61cfd0c
  ['5c 02fbffff', { power: -12.78 }], // int32 -1278 × 0.01 W
  ['5d 02fb', { current: -1.278 }], // int16 -1278 × 0.001 A
  ['5e 2004', { direction: 10.56 }], // 1056 × 0.01 °
  ['5f 2004', { precipitation: 105.6 }], // 1056 × 0.1 mm
  ['60 05', { channel: 5 }],
  ['61 2004', { rotationalSpeed: 1056 }], // rpm
  ['62 c0d8fdff', { speed: -0.14112 }], // int32 0xfffdd8c0 = -141120 × 0.000001 m/s
  ['63 40420f00', { acceleration: 1 }], // 1000000 × 0.000001 m/s²
  ['64 07', { lightLevel: 7 }],
];

test('bthome: every object id of the v2 table decodes (the 42 that were missing, by hand)', () => {
  for (const [frame, expected] of NEW_OBJECTS) {
    const r = decodeBthome(hex(`40 ${frame}`));
    assert.ok(r.ok && r.warning === undefined, `${frame}: ${JSON.stringify(r)}`);
    for (const [field, value] of Object.entries(expected)) {
      const got = (r.values as Record<string, number>)[field];
      assert.ok(Math.abs(got - value) < 1e-9, `${frame}: ${field} = ${got}, expected ${value}`);
    }
  }
});

test('bthome: the object table has every id of bthome-ble MEAS_TYPES (bthome.io v2)', () => {
  const ids = Object.keys(BTHOME_OBJECTS).map(Number).sort((a, b) => a - b);
  const expected = [
    ...range(0x00, 0x2f), 0x3a, ...range(0x3c, 0x64),
  ];
  assert.deepEqual(ids.map((i) => i.toString(16)), expected.map((i) => i.toString(16)));
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}
