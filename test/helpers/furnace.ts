/**
 * The gateway config of the furnace examples: a sim `thermal` furnace that heats
 * `step` °C/s while its heater output is on (and cools otherwise), and the
 * `furnace` actuator that rules/furnace-overtemp.yaml drives (on at start,
 * failsafe off).
 */
export function furnaceConfig(broker: string, o: { start: number; step: number; cloud?: boolean; moreSensors?: string[] }): string {
  const more = (o.moreSensors ?? []).map((s) => `\n      - ${s}`).join('');
  return `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxReadings: 50, maxDelay: 50ms } }
outbox: { flushInterval: 20ms }
drivers:
  - kind: sim
    id: sim
    outputs: { furnace: 1 }
    sensors:
      - { id: furnace.temp, waveform: thermal, heater: furnace, start: ${o.start}, min: 20, hot: 95, step: ${o.step}, interval: 100ms }${more}
actuators:
  - { id: furnace, driver: sim, target: { output: furnace }, type: bool, initial: true, failsafe: false${o.cloud ? ', cloud: true' : ''} }
`;
}
