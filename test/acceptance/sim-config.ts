/** Small gateway configs for the acceptance tests. */
export function counterConfig(opts: { broker: string; id?: string; interval?: string; outbox?: string; keepalive?: string }): string {
  return `gateway:
  id: ${opts.id ?? 'test-gw'}
  logLevel: info
uplink:
  brokers: [${opts.broker}]
  keepalive: ${opts.keepalive ?? '5s'}
  connectTimeout: 2s
  heartbeat: 1s
  backoff: { initial: 200ms, max: 1s }
  batch: { maxReadings: 100, maxDelay: 50ms }
${opts.outbox ?? 'outbox:\n  flushInterval: 20ms'}
drivers:
  - kind: sim
    id: sim
    sensors:
      - id: counter
        waveform: counter
        interval: ${opts.interval ?? '20ms'}
`;
}

/** Counter values in first-arrival order, and how many arrived more than once. */
export function counterValues(readings: readonly (readonly unknown[])[], sensor = 'counter'): { values: number[]; duplicates: number } {
  const seen = new Set<string>();
  const values: number[] = [];
  let duplicates = 0;
  for (const r of readings) {
    if (r[0] !== sensor) continue;
    const key = `${String(r[1])}:${String(r[2])}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    values.push(r[2] as number);
  }
  return { values, duplicates };
}
