import type { ActuatorValue } from '../arbiter/validate';

/**
 * What a command result says (published on `.../cmd/<actuator>/result`, or on
 * an allowed MQTT 5 response topic):
 *
 *   received ─► rejected                      (final; never applied)
 *            └► pending ─► applied | failed | superseded   (pending only while a gate defers the write)
 *            └► applied | failed | superseded  (final)
 *   release ─► released                       (final)
 *
 * `ok` is true only for `applied` (the driver acknowledged the write, and the
 * read-back where configured) and `released`; a pending result carries no `ok`.
 */
export type CommandStatus = 'pending' | 'applied' | 'released' | 'rejected' | 'failed' | 'superseded';

export interface CommandResult {
  id: string;
  /** Absent while pending; true only when applied or released. */
  ok?: boolean;
  status: CommandStatus;
  /** false only for a pending result: another result for this id follows. */
  final: boolean;
  error?: string;
  /** The value the actuator holds now, as acknowledged by its driver. */
  applied?: ActuatorValue;
  /** Who holds the actuator after this command (e.g. "cmd:c7", "local:…", a rule id). */
  owner?: string;
  /** For pending: when the gate allows the write (epoch ms). */
  writesAt?: number;
  /** Set on a repeated delivery of an id already answered. */
  duplicate?: true;
  ts: number;
}
