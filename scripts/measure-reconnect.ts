/**
 * How soon a fleet notices its broker is back after a long outage. Starts a real Mosquitto,
 * connects N uplinks per setting (default 20) with the default backoff (initial 1 s, max
 * 60 s, full jitter), once with backoff.maxUnreachable 5 s (the default) and once with it
 * at 60 s (as before it existed), stops the broker for the outage (default 60 s), starts
 * it again and prints, per setting, the seconds from the restart to each uplink's CONNACK.
 * Usage: npx tsx scripts/measure-reconnect.ts [gatewaysPerSetting] [outageSeconds]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '../src/core/clock';
import { silentLogger } from '../src/core/logger';
import { Outbox } from '../src/outbox/outbox';
import { outboxSchema } from '../src/outbox/schema';
import { uplinkSchema } from '../src/uplink/schema';
import { Uplink } from '../src/uplink/uplink';
import { startMosquitto } from '../test/helpers/mosquitto';

const perSetting = Number(process.argv[2] ?? 20);
const outageS = Number(process.argv[3] ?? 60);
const settings = { 'maxUnreachable 5s': '5s', 'maxUnreachable 60s (before)': '60s' } as const;

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-reconnect-'));
  const fleet: Array<{ setting: string; uplink: Uplink; outbox: Outbox }> = [];
  try {
    for (const [setting, maxUnreachable] of Object.entries(settings)) {
      for (let i = 0; i < perSetting; i++) {
        const id = `gw-${fleet.length}`;
        const outbox = new Outbox({ path: path.join(dir, `${id}.db`), config: outboxSchema.parse({}), clock: systemClock, log: silentLogger });
        const config = uplinkSchema.parse({ brokers: [broker.url], backoff: { maxUnreachable }, heartbeat: '1h' });
        const uplink = new Uplink({ config, gatewayId: id, outbox, clock: systemClock, log: silentLogger, health: () => ({}) });
        uplink.start();
        fleet.push({ setting, uplink, outbox });
      }
    }
    await until(() => fleet.every((g) => g.uplink.state === 'online'), 10_000);
    await broker.stop();
    await sleep(outageS * 1000);
    await broker.restart();
    const back = Date.now();
    const seconds = new Map<Uplink, number>();
    await until(() => {
      for (const g of fleet) if (!seconds.has(g.uplink) && g.uplink.state === 'online') seconds.set(g.uplink, (Date.now() - back) / 1000);
      return seconds.size === fleet.length;
    }, 120_000);
    for (const setting of Object.keys(settings)) {
      const s = fleet.filter((g) => g.setting === setting).map((g) => seconds.get(g.uplink) ?? NaN).sort((a, b) => a - b);
      const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1);
      process.stdout.write(`${JSON.stringify({ setting, gateways: s.length, outageS, secondsToReconnect: { min: q(0), median: q(0.5), p90: q(0.9), max: q(1) } })}\n`);
    }
  } finally {
    for (const g of fleet) {
      await g.uplink.stop();
      g.outbox.close();
    }
    await broker.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(pred: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(50);
  }
}

void main();
