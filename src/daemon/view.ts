import type { RulesProvenance } from '../deploy/deployer';
import type { Reading } from '../core/reading';
import type { ActuatorStatus } from '../arbiter/arbiter';

/**
 * What the running daemon exposes to the control socket (and so to the CLI).
 * The control server depends only on this interface; the Gateway implements it.
 * Every method is cheap and synchronous except actuate/readFresh/driverCall.
 */
export interface GatewayView {
  /** Whole-gateway health: the same object the heartbeat publishes. */
  status(): StatusSnapshot;
  sensors(now?: number): SensorRow[];
  /**
   * Wait for the next raw sample of `sensor` (up to timeoutMs) and return it with
   * the value after each pipeline stage.
   */
  readFresh(sensor: string, timeoutMs: number): Promise<StageTrace>;
  /** Cleaned readings as they leave the pipelines; returns an unsubscribe function. */
  subscribeReadings(listener: (r: Reading) => void): () => void;
  /** A local command through the arbiter, exactly like a cloud command (source 'local'). */
  /** Set an actuator from the CLI (a local hold), or with `release` drop the local hold. */
  actuate(actuator: string, value: unknown, release?: boolean): Promise<CommandResultView>;
  rules(): RuleRow[];
  buffer(): BufferStats;
  /**
   * Call a driver-specific operation (e.g. zigbee permitJoin/devices/readAttribute).
   * Rejects with a clear message for an unknown driver or operation.
   */
  driverCall(driverId: string, op: string, args: unknown[]): Promise<unknown>;
  /** The active alarms, oldest first. */
  alarms(): AlarmView[];
  /** Acknowledge an active alarm (it stays active until its condition clears). */
  ackAlarm(id: string, by: string): { ok: boolean; error?: string; alarm?: AlarmView };
  /** `fieldgate config rollback`: undo the deploy waiting for confirmation, or put a kept rule-set version back. */
  rollbackDeploy?(version?: number): { version: number; state: 'rolled-back'; to: number | string | null };
}

export interface AlarmView {
  id: string;
  source: string;
  severity: string;
  message: string;
  raisedAt: number;
  acknowledged?: { by: string; at: number };
}

export interface StatusSnapshot {
  version: string;
  gateway: string;
  uptimeS: number;
  /** ok, degraded (works with something missing) or failed (a control function is lost); see daemon/health.ts. */
  level?: 'ok' | 'degraded' | 'failed';
  /** level is ok. */
  healthy: boolean;
  /** Reasons the level is not ok (empty when ok). */
  problems: string[];
  /** The same problems with their level and component. */
  issues?: { level: 'degraded' | 'failed'; component: string; message: string }[];
  drivers: DriverRow[];
  uplink: Record<string, unknown>;
  outbox: BufferStats;
  /** Where the running config comes from (local file, a confirmed deploy, or one waiting for confirmation) and its sha256. */
  config?: { source: 'local' | 'deploy' | 'pending'; version?: number; hash: string };
  rules: {
    loaded: number;
    active: number;
    /** Which rules run: the rules directory's, the last-known-good copy (the directory was rejected at start-up), or none. */
    running?: 'rules-dir' | 'last-known-good' | 'none';
    /** When the running set was accepted from the rules directory. */
    acceptedAt?: number;
    since?: number;
    dir?: string;
    lastReload?: number;
    lastReloadError?: string;
    /** Every problem of the last rejection, FILE:LINE:COL: message. */
    problems?: string[];
  } & Partial<RulesProvenance>;
  lastErrors: { ts: number; component: string; message: string }[];
  /** The arbiter's view of every actuator: value, owner, writes, errors. */
  actuators: ActuatorStatus[];
  [extra: string]: unknown;
}

export interface DriverRow {
  id: string;
  kind: string;
  state: 'starting' | 'running' | 'backoff' | 'unavailable' | 'stopped';
  restarts: number;
  errors: number;
  lastError?: string;
  /** For unavailable drivers: how to fix it. */
  fix?: string;
  detail?: Record<string, unknown>;
}

export interface SensorRow {
  id: string;
  driver: string;
  value?: number | string;
  unit?: string;
  quality?: string;
  ts?: number;
  ageMs?: number;
  stale: boolean;
  errors: number;
  lastError?: string;
}

export interface StageTrace {
  sensor: string;
  ts: number;
  raw: { value: number | string; quality: string };
  stages: { stage: string; value?: number | string; quality?: string; dropped: boolean }[];
  output?: { value: number | string; quality: string };
}

export interface RuleRow {
  id: string;
  file: string;
  state: 'idle' | 'pending' | 'active' | 'cooldown';
  lastFired?: number;
  safety: boolean;
}

export interface BufferStats {
  depth: number;
  messages: number;
  oldestTs?: number;
  oldestAgeMs?: number;
  evicted: number;
  rejected: number;
  bytes: number;
}

export interface CommandResultView {
  id: string;
  /** Absent while pending (see src/commands/result.ts). */
  ok?: boolean;
  status?: 'pending' | 'applied' | 'released' | 'rejected' | 'failed' | 'superseded';
  final?: boolean;
  error?: string;
  applied?: unknown;
  /** Who holds the actuator after the command. */
  owner?: string;
  writesAt?: number;
  ts: number;
}
