/**
 * An event for `.../events`: alarms raised and cleared by rules, rule sets
 * rejected on reload, failsafes applied, actuator write failures and recoveries.
 * The lead routes `publishEvent` to the outbox with priority 'event'.
 */
export type EventSeverity = 'info' | 'warning' | 'alarm' | 'critical';

export type EventType =
  | 'alarm'
  | 'alarm.clear'
  | 'rules.loaded'
  | 'rules.rejected'
  | 'failsafe'
  | 'failsafe.clear'
  | 'actuator.error'
  | 'actuator.recovered'
  | 'sensor.stale'
  | 'sensor.bad'
  | 'sensor.recovered'
  | 'alarm.ack'
  | 'deploy.applied'
  | 'deploy.rejected'
  | 'deploy.drift'
  | 'deploy.confirmed'
  | 'deploy.rolledback';

export interface ControlEvent {
  ts: number;
  type: EventType;
  severity: EventSeverity;
  /** What raised it: a rule id, an actuator id, or "rules" for the loader. */
  source: string;
  message: string;
  details?: Record<string, unknown>;
}

export type PublishEvent = (ev: ControlEvent) => void;
