import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';

export const GPIO_BACKENDS = ['auto', 'sysfs', 'cdev'] as const;
export const GPIO_EDGES = ['both', 'rising', 'falling'] as const;
export const RATE_UNITS = { s: 1000, min: 60_000, h: 3_600_000 } as const;

const bcmPin = z.number().int().min(0).max(63).describe('BCM GPIO number as printed on pinout diagrams (GPIO17 → 17), not the header pin number.');

export const gpioCounterSchema = z
  .strictObject({
    factor: z.number().positive().default(1).describe('Units per pulse, e.g. 0.5 for a flow meter giving 2 pulses per litre.'),
    rateWindow: duration('Length of the window the rate is computed over; one rate reading is emitted at the end of every window.').default(60_000),
    rateUnit: z.enum(['s', 'min', 'h']).default('min').describe('Time unit of the rate: factor units per s, min or h (e.g. litres per minute).'),
    total: z
      .strictObject({ ...sensorFields })
      .optional()
      .describe('Sensor for the running total (factor units since first start), persisted in the state directory so it survives restarts.'),
  })
  .describe('Pulse counting for flow and energy meters.');

export const gpioInputSchema = z
  .strictObject({
    ...sensorFields,
    pin: bcmPin,
    mode: z.enum(['state', 'counter']).default('state').describe('state: emit the level (0/1) on every debounced change; counter: count pulses and emit a rate (and a running total).'),
    edge: z
      .enum(GPIO_EDGES)
      .optional()
      .describe('state: which debounced changes emit a reading at once (default both); counter: which edges count as a pulse (default rising; both counts two per pulse).'),
    debounce: duration('A change counts only once the level has been stable this long (0 = no debounce).').default(0),
    activeLow: z.boolean().default(false).describe('Invert the level: a contact pulling the pin to ground reads as 1.'),
    interval: duration('state: re-emit the current level this often so the sensor never goes stale.').default(30_000),
    counter: gpioCounterSchema.optional().describe('Counter settings (mode: counter); defaults apply when omitted.'),
  })
  .describe('A digital input.');

export const gpioDriverSchema = z
  .strictObject({
    kind: z.literal('gpio'),
    id: z.string().min(1).describe('Driver instance id.'),
    sysfsRoot: z.string().default('/sys').describe('Root of sysfs, used to detect the GPIO chip and its base (tests point it at a fake tree).'),
    backend: z
      .enum(GPIO_BACKENDS)
      .default('auto')
      .describe('sysfs: onoff over /sys/class/gpio; cdev: character device through the gpiod tools (gpioget/gpioset/gpiomon); auto: sysfs when /sys/class/gpio exists, else cdev.'),
    chip: z.string().optional().describe('cdev: GPIO chip name or label (default: the chip whose label starts with pinctrl-).'),
    statePersistInterval: duration('How often changed pulse totals are written to the state directory (also written on stop).').default(60_000),
    inputs: z.array(gpioInputSchema).default([]),
  })
  .superRefine((c, ctx) => {
    const pins = new Map<number, string>();
    c.inputs.forEach((input, i) => {
      const first = pins.get(input.pin);
      if (first) ctx.addIssue({ code: 'custom', path: ['inputs', i, 'pin'], message: `pin ${input.pin} is already used by input "${first}"` });
      pins.set(input.pin, input.id);
      if (input.mode === 'state' && input.counter) {
        ctx.addIssue({ code: 'custom', path: ['inputs', i, 'counter'], message: 'counter settings need mode: counter' });
      }
    });
  })
  .describe('Raspberry Pi GPIO: debounced digital inputs, pulse counters, and outputs for actuators.');

export const gpioTargetSchema = z.strictObject({
  pin: bcmPin,
  activeLow: z.boolean().default(false).describe('Drive the pin low for "on" (relay boards with active-low inputs).'),
});

export type GpioDriverConfig = z.infer<typeof gpioDriverSchema>;
export type GpioInputConfig = z.infer<typeof gpioInputSchema>;
export type GpioCounterConfig = z.infer<typeof gpioCounterSchema>;
export type GpioTarget = z.infer<typeof gpioTargetSchema>;
export type GpioEdge = (typeof GPIO_EDGES)[number];
