import type { Advertisement } from '../radio';
import { BTHOME_UUID, decodeBthome } from './bthome';
import { decodeError, type BleFormat, type DecodeResult } from './result';
import { RUUVI_COMPANY_ID, decodeRuuvi } from './ruuvi';
import { ENVIRONMENTAL_SENSING_UUID, decodeAtc, decodeEnvironmentalSensing, decodePvvx } from './xiaomi-custom';

export * from './result';
export { BTHOME_OBJECTS, decodeBthome, type BthomeOptions } from './bthome';
export { decodeRuuvi } from './ruuvi';
export { decodeAtc, decodePvvx } from './xiaomi-custom';

export type DecodeFormat = BleFormat | 'auto';

function serviceData(adv: Advertisement, uuid: string): Buffer | undefined {
  return adv.serviceData.find((s) => s.uuid === uuid)?.data;
}

function isRuuvi(adv: Advertisement): boolean {
  const m = adv.manufacturerData;
  return m !== undefined && m.length >= 2 && (m[0] | (m[1] << 8)) === RUUVI_COMPANY_ID;
}

/** Per-device secrets a decoder may need. */
export interface DecodeKeys {
  /** 16-byte AES key of an encrypted BTHome or pvvx/ATC device. */
  bindkey?: Uint8Array;
}

/**
 * Decode one advertisement in the given format, or find the format from its
 * payload (`auto`: BTHome service data, Ruuvi manufacturer data, then 0x181A
 * ATC/pvvx by length). Never throws.
 */
export function decodeAdvertisement(adv: Advertisement, format: DecodeFormat = 'auto', keys: DecodeKeys = {}): DecodeResult {
  const env = serviceData(adv, ENVIRONMENTAL_SENSING_UUID);
  const bthomeOptions = { address: adv.address, bindkey: keys.bindkey }; // the same for the encrypted pvvx/ATC beacons
  switch (format) {
    case 'bthome': {
      const d = serviceData(adv, BTHOME_UUID);
      return d ? decodeBthome(d, bthomeOptions) : decodeError('absent', 'no BTHome service data (UUID 0xFCD2) in advertisement', 'bthome');
    }
    case 'ruuvi':
      return adv.manufacturerData ? decodeRuuvi(adv.manufacturerData) : decodeError('absent', 'no manufacturer data in advertisement', 'ruuvi');
    case 'atc':
      return env ? decodeAtc(env, bthomeOptions) : decodeError('absent', 'no 0x181A service data in advertisement', 'atc');
    case 'pvvx':
      return env ? decodePvvx(env, bthomeOptions) : decodeError('absent', 'no 0x181A service data in advertisement', 'pvvx');
    case 'auto': {
      const bthome = serviceData(adv, BTHOME_UUID);
      if (bthome) return decodeBthome(bthome, bthomeOptions);
      if (isRuuvi(adv)) return decodeRuuvi(adv.manufacturerData as Buffer);
      if (env) return decodeEnvironmentalSensing(env, bthomeOptions);
      return decodeError('absent', 'no BTHome, Ruuvi or ATC/pvvx payload in advertisement');
    }
  }
}
