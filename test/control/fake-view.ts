/**
 * A small in-memory GatewayView with fixed, hand-written data, for control socket
 * and CLI tests. emit() pushes a reading to watch subscribers.
 */
import type { Reading } from '../../src/core/reading';
import type {
  AlarmView,
  BufferStats,
  CommandResultView,
  GatewayView,
  RuleRow,
  SensorRow,
  StageTrace,
  StatusSnapshot,
} from '../../src/daemon/view';

export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

export class FakeGatewayView implements GatewayView {
  healthy = true;
  listeners = new Set<(r: Reading) => void>();
  actuations: { actuator: string; value: unknown }[] = [];
  driverCalls: { driverId: string; op: string; args: unknown[] }[] = [];
  drivers: StatusSnapshot['drivers'] = [
    { id: 'sim1', kind: 'sim', state: 'running', restarts: 0, errors: 0 },
    { id: 'rs485', kind: 'modbus', state: 'backoff', restarts: 3, errors: 12, lastError: 'timeout on unit 4' },
    { id: 'zb', kind: 'zigbee', state: 'running', restarts: 0, errors: 0 },
  ];

  status(): StatusSnapshot {
    return {
      version: '0.1.0',
      gateway: 'test-gw',
      uptimeS: 3725,
      healthy: this.healthy,
      problems: this.healthy ? [] : ['driver rs485 in backoff'],
      drivers: this.drivers,
      uplink: { state: 'online', broker: 'mqtts://broker.example:8883', inFlight: 2 },
      outbox: this.buffer(),
      rules: { loaded: 4, active: 1, running: 'rules-dir', dir: '/etc/fieldgate/rules.d', acceptedAt: T0 - 3_600_000, since: T0 - 3_600_000 },
      lastErrors: [{ ts: T0 - 5000, component: 'rs485', message: 'timeout on unit 4' }],
      actuators: [],
    };
  }

  sensors(): SensorRow[] {
    return [
      { id: 'boiler.temp', driver: 'sim1', value: 21.5, unit: '°C', quality: 'good', ts: T0 - 3200, ageMs: 3200, stale: false, errors: 0 },
      { id: 'tank.level', driver: 'rs485', value: 0.42, unit: 'm', quality: 'uncertain', ts: T0 - 300_000, ageMs: 300_000, stale: true, errors: 12, lastError: 'timeout' },
      { id: 'door.open', driver: 'zb', value: 'closed', quality: 'bad', ts: T0 - 800, ageMs: 800, stale: false, errors: 1 },
    ];
  }

  async readFresh(sensor: string, _timeoutMs: number): Promise<StageTrace> {
    if (sensor !== 'boiler.temp') throw new Error(`unknown sensor "${sensor}"`);
    return {
      sensor,
      ts: T0,
      raw: { value: 2150, quality: 'good' },
      stages: [
        { stage: 'scale', value: 21.5, quality: 'good', dropped: false },
        { stage: 'round', value: 21.5, quality: 'good', dropped: false },
      ],
      output: { value: 21.5, quality: 'good' },
    };
  }

  subscribeReadings(listener: (r: Reading) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(r: Reading): void {
    for (const l of this.listeners) l(r);
  }

  async actuate(actuator: string, value: unknown): Promise<CommandResultView> {
    this.actuations.push({ actuator, value });
    if (actuator === 'pump') return { id: 'local-1', ok: true, applied: value, ts: T0 };
    if (actuator === 'valve') return { id: 'local-2', ok: false, error: 'interlock tank.low is active', ts: T0 };
    throw new Error(`unknown actuator "${actuator}"`);
  }

  rules(): RuleRow[] {
    return [
      { id: 'tank-low-stop', file: 'safety.yaml', state: 'active', lastFired: T0 - 60_000, safety: true },
      { id: 'boiler-hot', file: 'boiler.yaml', state: 'idle', safety: false },
    ];
  }

  buffer(): BufferStats {
    return { depth: 120, messages: 12, oldestTs: T0 - 95_000, oldestAgeMs: 95_000, evicted: 3, rejected: 0, bytes: 1536 };
  }

  async driverCall(driverId: string, op: string, args: unknown[]): Promise<unknown> {
    this.driverCalls.push({ driverId, op, args });
    if (driverId !== 'zb') throw new Error(`unknown driver "${driverId}"`);
    if (op === 'devices') {
      return [
        { ieee: '0x00124b0001', model: 'SNZB-02', lastSeenS: 12 },
        { ieee: '0x00124b0002', model: 'SNZB-04', lastSeenS: 340 },
      ];
    }
    if (op === 'permitJoin') return null;
    if (op === 'readAttribute') return 2150;
    throw new Error(`driver zb has no operation "${op}"`);
  }

  alarmList: AlarmView[] = [{ id: 'furnace-overtemp#1-x', source: 'furnace-overtemp', severity: 'critical', message: 'Furnace over temperature', raisedAt: T0 - 60_000 }];

  alarms(): AlarmView[] {
    return this.alarmList;
  }

  ackAlarm(id: string, by: string): { ok: boolean; error?: string; alarm?: AlarmView } {
    const a = this.alarmList.find((x) => x.id === id);
    if (!a) return { ok: false, error: `no active alarm "${id}"` };
    a.acknowledged = { by, at: T0 };
    return { ok: true, alarm: a };
  }
}
