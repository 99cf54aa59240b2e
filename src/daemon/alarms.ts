import type { ControlEvent, EventSeverity } from '../arbiter/event';

/**
 * Alarms with a lifecycle. A rule's `event` action raises an alarm (one active
 * alarm per rule: raising again while active updates its text); its `clear`, or
 * the rule's removal, clears it. An engineer or the cloud acknowledges it (it
 * stays active until its condition clears). Every `alarm` / `alarm.clear` /
 * `alarm.ack` event carries `details.alarmId`; the active list is published
 * retained on `<prefix>/<gw>/alarms` whenever it changes.
 *
 *   raised ──ack──► acknowledged ──clear──► (gone; alarm.clear)
 *     └──────────────clear───────────────────┘
 */
export interface Alarm {
  id: string;
  /** The rule that raised it. */
  source: string;
  severity: EventSeverity;
  message: string;
  raisedAt: number;
  acknowledged?: { by: string; at: number };
}

/** At most this many active alarms are kept (one per rule, so only a huge rule set reaches it). */
const MAX_ACTIVE = 1000;

export class AlarmRegistry {
  private readonly active = new Map<string, Alarm>();
  private seq = 0;

  constructor(private readonly now: () => number) {}

  /**
   * Note an outgoing event: alarms are raised or cleared and the event gets its
   * alarmId. Returns true when the active list changed (publish it).
   */
  observe(ev: ControlEvent): boolean {
    if (ev.type === 'alarm') {
      const prev = this.active.get(ev.source);
      const alarm: Alarm = prev
        ? { ...prev, severity: ev.severity, message: ev.message }
        : { id: `${ev.source}#${++this.seq}-${ev.ts.toString(36)}`, source: ev.source, severity: ev.severity, message: ev.message, raisedAt: ev.ts };
      if (!prev && this.active.size >= MAX_ACTIVE) return false;
      this.active.set(ev.source, alarm);
      ev.details = { ...ev.details, alarmId: alarm.id };
      return true;
    }
    if (ev.type === 'alarm.clear') {
      const prev = this.active.get(ev.source);
      if (!prev) return false;
      this.active.delete(ev.source);
      ev.details = { ...ev.details, alarmId: prev.id };
      return true;
    }
    return false;
  }

  /** Acknowledge an active alarm by id; the event to publish, or why not. */
  ack(id: string, by: string): { ok: true; alarm: Alarm; event: ControlEvent } | { ok: false; error: string } {
    const alarm = [...this.active.values()].find((a) => a.id === id);
    if (!alarm) return { ok: false, error: `no active alarm "${id}"` };
    if (alarm.acknowledged) return { ok: true, alarm, event: ackEvent(alarm, this.now(), true) };
    alarm.acknowledged = { by, at: this.now() };
    return { ok: true, alarm, event: ackEvent(alarm, alarm.acknowledged.at, false) };
  }

  list(): Alarm[] {
    return [...this.active.values()].sort((a, b) => a.raisedAt - b.raisedAt);
  }

  /** The retained alarms document. */
  document(): { ts: number; active: Alarm[] } {
    return { ts: this.now(), active: this.list() };
  }
}

function ackEvent(a: Alarm, ts: number, again: boolean): ControlEvent {
  return {
    ts,
    type: 'alarm.ack',
    severity: 'info',
    source: a.source,
    message: `alarm ${a.id} acknowledged by ${a.acknowledged?.by ?? '?'}${again ? ' (already acknowledged)' : ''}`,
    details: { alarmId: a.id, by: a.acknowledged?.by },
  };
}
