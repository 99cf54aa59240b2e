import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';

export const WAVEFORMS = ['sine', 'ramp', 'square', 'randomWalk', 'counter', 'constant', 'thermal'] as const;

export const simSensorSchema = z
  .strictObject({
    ...sensorFields,
    waveform: z.enum(WAVEFORMS).describe(
      'sine/ramp/square between min and max over period; randomWalk steps up to ±step; counter adds exactly 1 per sample from start; constant holds value; thermal moves towards hot while the sim output `heater` is on, else towards min.',
    ),
    interval: duration('Time between samples.').default(1000),
    min: z.number().default(0),
    max: z.number().default(100),
    period: duration('Period of sine, ramp and square.').default(60_000),
    step: z.number().nonnegative().default(1).describe('randomWalk: largest change per sample; thermal: change per second.'),
    start: z.number().default(0).describe('counter: first value; thermal/randomWalk: initial value.'),
    value: z.number().default(0).describe('constant: the value.'),
    heater: z.string().optional().describe('thermal: name of the sim output that heats (written by an actuator).'),
    hot: z.number().optional().describe('thermal: temperature approached while heating (default max).'),
    noise: z.number().nonnegative().default(0).describe('Uniform noise of ± this amount added to every sample.'),
    spikeProbability: z.number().min(0).max(1).default(0).describe('Chance per sample of a misfire spike.'),
    spikeMagnitude: z.number().default(1000).describe('Amount added to a spiking sample.'),
    dropoutProbability: z.number().min(0).max(1).default(0).describe('Chance per sample that the sample is missing.'),
    badProbability: z.number().min(0).max(1).default(0).describe('Chance per sample of a bad-quality sample.'),
  })
  .describe('A simulated sensor.');

/** Most readings a paced sim offers per second (a bound on the work one tick may ask for). */
export const MAX_PACED_RATE = 1_000_000;

export const simPaceSchema = z
  .strictObject({
    rate: z.number().positive().max(MAX_PACED_RATE).describe('Readings per second across all sensors of this driver, taken in turn.'),
    tick: duration('How often the readings due since the previous tick are emitted, in one batch.').default(10),
  })
  .refine((p) => p.tick >= 1 && p.tick <= 1000, { message: 'tick: between 1ms and 1s', path: ['tick'] })
  .describe(
    'Paced mode, for benchmarks and load tests: instead of each sensor sampling on its own interval, the driver emits rate readings per second in batches every tick, one sample of each sensor in turn. A sensor then advances one waveform step (its interval) per sample. If the event loop falls so far behind that more than 100 ms (or two ticks, if longer) of readings are due at once, the excess is skipped and counted (health: paced.skipped).',
  );

export const simDriverSchema = z
  .strictObject({
    kind: z.literal('sim'),
    id: z.string().min(1).describe('Driver instance id.'),
    seed: z.number().int().default(1).describe('Seed of the deterministic random generator.'),
    pace: simPaceSchema.optional(),
    sensors: z.array(simSensorSchema).default([]),
    outputs: z.record(z.string(), z.number()).default({}).describe('Initial values of sim outputs that actuators write.'),
  })
  .describe('Simulated devices: deterministic waveforms, noise, spikes and dropouts; outputs that actuators can write.');

export const simTargetSchema = z.strictObject({
  output: z.string().min(1).describe('Name of the sim output to write.'),
});

export type SimDriverConfig = z.infer<typeof simDriverSchema>;
export type SimSensorConfig = z.infer<typeof simSensorSchema>;
