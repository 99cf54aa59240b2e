/**
 * ZCL attribute reports → named values in engineering units. A pure function:
 * (cluster, attributes) → [{field, value}]. ZCL "invalid" values (e.g. 0x8000
 * for temperature, 0xFFFF for humidity) produce nothing.
 */

export const ZIGBEE_FIELDS = [
  'temperature', // °C
  'humidity', // %
  'pressure', // hPa
  'illuminance', // lux
  'occupancy', // 0/1
  'onOff', // 0/1
  'level', // 0..254
  'power', // W (haElectricalMeasurement.activePower, seMetering.instantaneousDemand) — raw, apply the device's divisor with `scale`
  'voltage', // V (rmsVoltage) — raw, see `scale`
  'current', // A (rmsCurrent) — raw, see `scale`
  'energy', // seMetering.currentSummDelivered — raw, see `scale`
  'battery', // %
  'batteryVoltage', // V
  'contact', // 1 = closed, 0 = open: !(ssIasZone zone status bit 0), as zigbee-herdsman-converters
] as const;
export type ZigbeeField = (typeof ZIGBEE_FIELDS)[number];

export interface ClusterValue {
  field: ZigbeeField;
  value: number;
}

/** Cluster that reports each field (used for reads and reporting configuration). */
export const FIELD_SOURCE: Record<ZigbeeField, { cluster: string; attribute: string }> = {
  temperature: { cluster: 'msTemperatureMeasurement', attribute: 'measuredValue' },
  humidity: { cluster: 'msRelativeHumidity', attribute: 'measuredValue' },
  pressure: { cluster: 'msPressureMeasurement', attribute: 'measuredValue' },
  illuminance: { cluster: 'msIlluminanceMeasurement', attribute: 'measuredValue' },
  occupancy: { cluster: 'msOccupancySensing', attribute: 'occupancy' },
  onOff: { cluster: 'genOnOff', attribute: 'onOff' },
  level: { cluster: 'genLevelCtrl', attribute: 'currentLevel' },
  power: { cluster: 'haElectricalMeasurement', attribute: 'activePower' },
  voltage: { cluster: 'haElectricalMeasurement', attribute: 'rmsVoltage' },
  current: { cluster: 'haElectricalMeasurement', attribute: 'rmsCurrent' },
  energy: { cluster: 'seMetering', attribute: 'currentSummDelivered' },
  battery: { cluster: 'genPowerCfg', attribute: 'batteryPercentageRemaining' },
  batteryVoltage: { cluster: 'genPowerCfg', attribute: 'batteryVoltage' },
  contact: { cluster: 'ssIasZone', attribute: 'zoneStatus' },
};

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  // uint48 as [high 32 bits, low 32 bits] (older herdsman)
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return v[0] * 2 ** 32 + v[1];
  return undefined;
}

/** Map one report's attributes to values. Unknown clusters and attributes are ignored. */
export function mapClusterReport(cluster: string, attributes: Record<string, unknown>): ClusterValue[] {
  const out: ClusterValue[] = [];
  const put = (field: ZigbeeField, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) out.push({ field, value });
  };
  const a = (name: string) => num(attributes[name]);
  switch (cluster) {
    case 'msTemperatureMeasurement': {
      const v = a('measuredValue');
      if (v !== undefined && v !== -0x8000 && v !== 0x8000) put('temperature', v / 100);
      break;
    }
    case 'msRelativeHumidity': {
      const v = a('measuredValue');
      if (v !== undefined && v !== 0xffff) put('humidity', v / 100);
      break;
    }
    case 'msPressureMeasurement': {
      const v = a('measuredValue'); // kPa × 10 = hPa
      if (v !== undefined && v !== -0x8000 && v !== 0x8000) put('pressure', v);
      break;
    }
    case 'msIlluminanceMeasurement': {
      const v = a('measuredValue'); // 10000 × log10(lux) + 1; 0 = too dark to measure
      if (v !== undefined && v !== 0xffff) put('illuminance', v === 0 ? 0 : 10 ** ((v - 1) / 10000));
      break;
    }
    case 'msOccupancySensing': {
      const v = a('occupancy');
      if (v !== undefined) put('occupancy', v & 1);
      break;
    }
    case 'genOnOff':
      put('onOff', a('onOff'));
      break;
    case 'genLevelCtrl':
      put('level', a('currentLevel'));
      break;
    case 'haElectricalMeasurement': {
      const p = a('activePower');
      if (p !== undefined && p !== -0x8000) put('power', p);
      const v = a('rmsVoltage');
      if (v !== undefined && v !== 0xffff) put('voltage', v);
      const c = a('rmsCurrent');
      if (c !== undefined && c !== 0xffff) put('current', c);
      break;
    }
    case 'seMetering':
      put('energy', a('currentSummDelivered'));
      put('power', a('instantaneousDemand'));
      break;
    case 'genPowerCfg': {
      const pct = a('batteryPercentageRemaining'); // half-percent units
      if (pct !== undefined && pct !== 0xff) put('battery', pct / 2);
      const bv = a('batteryVoltage'); // 100 mV units
      if (bv !== undefined && bv !== 0xff && bv !== 0) put('batteryVoltage', bv / 10);
      break;
    }
    case 'ssIasZone':
      put('contact', contact(a('zoneStatus')));
      break;
  }
  return out;
}

/** Zone status bit 0 (Alarm1) is "opened" on a contact switch (ZCL 8.2.2.2.1.3). */
function contact(zoneStatus: number | undefined): number | undefined {
  return zoneStatus === undefined ? undefined : zoneStatus & 1 ? 0 : 1;
}

/**
 * Map a cluster-specific command from a device to values. IAS zone sensors (door
 * contacts) report by ssIasZone statusChangeNotification, not by attribute reports
 * (zigbee-herdsman-converters: ias_contact_alarm_1 reads `msg.data.zonestatus`).
 */
export function mapClusterCommand(cluster: string, command: string, payload: Record<string, unknown>): ClusterValue[] {
  if (cluster === 'ssIasZone' && command === 'statusChangeNotification') {
    const v = contact(num(payload.zonestatus));
    return v === undefined ? [] : [{ field: 'contact', value: v }];
  }
  return [];
}
