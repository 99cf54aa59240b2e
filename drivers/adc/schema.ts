import { z } from 'zod';
import { duration } from '../../src/core/duration';
import { sensorFields } from '../../src/config/sensor';

export const ADC_OUTPUTS = ['raw', 'millivolts', 'volts'] as const;

export const adcChannelSchema = z
  .strictObject({
    ...sensorFields,
    device: z
      .string()
      .min(1)
      .describe(
        'IIO device: its name (e.g. "ads1015" for ADS1015/ADS1115, "mcp3008"), name@parent for one of several identical chips ("ads1015@1-0048": I2C bus 1 address 0x48, stable across reboots), its directory name ("iio:device0") or an absolute path.',
      ),
    channel: z
      .union([z.number().int().min(0), z.string().regex(/^\d+-\d+$/, 'a differential channel is "P-N", e.g. "0-1"')])
      .describe('Channel number M of in_voltageM_raw, or "P-N" for the differential in_voltageP-voltageN_raw (e.g. "0-1").'),
    interval: duration('Time between readings.').default(1000),
    samples: z.number().int().min(1).max(1000).default(1).describe('Oversampling: raw reads averaged into one reading.'),
    output: z
      .enum(ADC_OUTPUTS)
      .default('millivolts')
      .describe('raw: mean raw counts (for the scale/linearize stages); millivolts: (raw + offset) × scale as the kernel defines it; volts: millivolts / 1000.'),
  })
  .describe('One analog channel read from Linux IIO sysfs.');

export const adcDriverSchema = z
  .strictObject({
    kind: z.literal('adc'),
    id: z.string().min(1).describe('Driver instance id.'),
    sysfsRoot: z.string().default('/sys').describe('Root of sysfs; devices are under <sysfsRoot>/bus/iio/devices (tests point it at a fake tree).'),
    channels: z.array(adcChannelSchema).default([]),
  })
  .describe('Analog inputs through Linux IIO ADC drivers (ti-ads1015, mcp320x, ...).');

export type AdcDriverConfig = z.infer<typeof adcDriverSchema>;
export type AdcChannelConfig = z.infer<typeof adcChannelSchema>;
export type AdcOutput = (typeof ADC_OUTPUTS)[number];
