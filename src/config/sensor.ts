import { z } from 'zod';
import { duration } from '../core/duration';
import { stageConfigSchema, type StageConfig } from '../pipeline/stages';

export const SENSOR_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/**
 * Fields every sensor has, whatever driver declares it. A driver's point schema
 * spreads these into its own z.strictObject: `z.strictObject({ ...sensorFields, address: ... })`.
 */
export const sensorFields = {
  id: z
    .string()
    .regex(SENSOR_ID_RE, 'sensor id: letters, digits and _ . : - (e.g. "boiler.temp")')
    .describe('Sensor id, unique across the gateway; used in topics, rules and the CLI.'),
  unit: z.string().optional().describe('Engineering unit after the pipeline (e.g. "°C", "bar").'),
  description: z.string().optional(),
  pipeline: z.array(stageConfigSchema).default([]).describe('Ordered processing stages applied to every raw sample.'),
  publish: z.boolean().default(true).describe('Forward readings to the cloud (false: local rules and CLI only).'),
  maxAge: duration('Stale when the driver delivered no usable sample for this long (rules fail safe, health flags it); readings a deadband holds back count as samples. Default: 3 × the sample interval or 60s.').optional(),
};

export interface SensorCommon {
  id: string;
  unit?: string;
  description?: string;
  pipeline: StageConfig[];
  publish: boolean;
  maxAge?: number;
}

/** A sensor as declared by a driver, with where it was declared (for error positions). */
export interface SensorDecl extends SensorCommon {
  driver: string;
  /** Config path of the sensor object, e.g. ['drivers', 0, 'sensors', 3]. */
  path: (string | number)[];
  /** Nominal sample interval in ms, if the driver knows it (for default maxAge). */
  intervalMs?: number;
}
