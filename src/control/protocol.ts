/**
 * The control socket's wire protocol: line-delimited JSON over a Unix stream socket.
 *
 *   client → daemon   {"id":1,"method":"status","params":{}}\n
 *   daemon → client   {"id":1,"ok":true,"result":{...}}\n
 *                     {"id":1,"ok":false,"error":"unknown method \"x\"; methods: ..."}\n
 *
 * A streaming method (`watch`) first answers {"id":N,"ok":true,"result":{...}} and
 * then sends {"id":N,"event":{...}} lines until the client closes the connection.
 * Requests on one connection may be pipelined; replies carry the request id.
 * A line longer than MAX_LINE_BYTES gets an error reply and the connection is closed.
 */
import { z } from 'zod';

/** Longest request line accepted (bytes, without the newline). */
export const MAX_LINE_BYTES = 64 * 1024;

/** Default socket path; FIELDGATE_SOCKET and --socket override it. */
export const DEFAULT_SOCKET_PATH = '/run/fieldgate/control.sock';

export const requestSchema = z.strictObject({
  id: z.union([z.number(), z.string()]).describe('Echoed in the reply; chosen by the client.'),
  method: z.string().describe('One of METHODS.'),
  params: z.record(z.string(), z.unknown()).default({}).describe('Method parameters (an object).'),
});
export type ControlRequest = z.infer<typeof requestSchema>;

const noParams = z.strictObject({});

/** Parameters of every method, validated by the server before it calls the view. */
export const methodParams = {
  status: noParams,
  sensors: noParams,
  rules: noParams,
  buffer: noParams,
  read: z.strictObject({
    sensor: z.string().min(1).describe('Sensor id.'),
    timeoutMs: z.number().int().positive().max(300_000).default(10_000).describe('How long to wait for a fresh sample.'),
  }),
  watch: z.strictObject({
    sensors: z.array(z.string()).default([]).describe('Sensor ids to stream; empty streams every sensor.'),
  }),
  actuate: z.strictObject({
    actuator: z.string().min(1).describe('Actuator id.'),
    value: z.unknown().optional().describe('Requested value (number, boolean or string, as the actuator accepts); none with release.'),
    release: z.boolean().default(false).describe('Drop the hold set on site instead of setting a value.'),
  }),
  alarms: noParams,
  ack: z.strictObject({
    alarm: z.string().min(1).max(256).describe('Alarm id, as `fieldgate alarms` lists it.'),
    by: z.string().min(1).max(100).default('local').describe('Who acknowledges (shown in the alarm and its event).'),
  }),
  driver: z.strictObject({
    driver: z.string().min(1).describe('Driver id.'),
    op: z.string().min(1).describe('Driver-specific operation, e.g. "permitJoin".'),
    args: z.array(z.unknown()).default([]).describe('Operation arguments.'),
  }),
  'deploy.rollback': z.strictObject({
    version: z.number().int().positive().optional().describe('A kept rule-set version to put back; none: the deploy waiting for confirmation, else the version before the running one.'),
  }),
} as const;

export type ControlMethod = keyof typeof methodParams;
export type MethodParams<M extends ControlMethod> = z.input<(typeof methodParams)[M]>;
export const METHODS = Object.keys(methodParams) as ControlMethod[];

export function isControlMethod(m: string): m is ControlMethod {
  return Object.prototype.hasOwnProperty.call(methodParams, m);
}

export type ControlReply =
  | { id: number | string | null; ok: true; result: unknown }
  | { id: number | string | null; ok: false; error: string };

export interface ControlEvent {
  id: number | string;
  event: unknown;
}

/** One line from the daemon: a reply or a stream event. */
export type ControlMessage = ControlReply | ControlEvent;

export function isEvent(m: ControlMessage): m is ControlEvent {
  return 'event' in m;
}

export function encodeLine(msg: ControlMessage | ControlRequest): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * Splits a byte stream into lines. push() returns complete lines, or 'overflow'
 * once an unterminated line grows beyond maxBytes (the caller then closes).
 */
export class LineSplitter {
  private pending = '';

  constructor(private readonly maxBytes: number = MAX_LINE_BYTES) {}

  push(chunk: string): string[] | 'overflow' {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    for (const p of parts) if (Buffer.byteLength(p) > this.maxBytes) return 'overflow';
    if (Buffer.byteLength(this.pending) > this.maxBytes) return 'overflow';
    return parts.filter((p) => p.trim() !== '');
  }
}
