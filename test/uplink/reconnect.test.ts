/**
 * After a long outage the broker's return is noticed within backoff.maxUnreachable (full
 * jitter below it), while a broker that answers and refuses keeps the long backoff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { VirtualClock } from '../../src/core/clock';
import { freePort } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink } from './harness';

type Made = ReturnType<typeof makeUplink>;

/** The delays of the first `n` backoffs, advancing virtual time through each. */
async function backoffDelays({ uplink, log, clock }: Made, n: number): Promise<number[]> {
  const delays: number[] = [];
  const vclock = clock as VirtualClock;
  for (let i = 0; i < n; i++) {
    await waitFor(() => uplink.state === 'backoff' && log.lines.filter((l) => l.to === 'backoff').length === i + 1, { what: `backoff ${i}` });
    delays.push(Number(log.lines.filter((l) => l.to === 'backoff').at(-1)?.delayMs));
    await vclock.advanceAsync(delays[i]);
  }
  return delays;
}

test('a broker that is down (connection refused) is retried at most backoff.maxUnreachable apart, not backoff.max', async (t) => {
  const url = `mqtt://127.0.0.1:${await freePort()}`; // nothing listens
  const clock = new VirtualClock();
  // random() = 1: each delay is its cap. Caps 1, 2, 4, 8, 16 s (max 60 s), held to maxUnreachable 5 s.
  const made = makeUplink(t, { brokers: [url], clock, random: () => 1, uplink: { backoff: { initial: '1s', max: '60s', maxUnreachable: '5s' } } });
  made.uplink.start();
  assert.deepEqual(await backoffDelays(made, 6), [1000, 2000, 4000, 5000, 5000, 5000]);
});

test('full jitter stays below maxUnreachable: random() = 0.5 gives half of each cap', async (t) => {
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  const clock = new VirtualClock();
  const made = makeUplink(t, { brokers: [url], clock, random: () => 0.5, uplink: { backoff: { initial: '1s', max: '60s', maxUnreachable: '5s' } } });
  made.uplink.start();
  assert.deepEqual(await backoffDelays(made, 5), [500, 1000, 2000, 2500, 2500]);
});

test('a broker that answers and refuses the CONNECT keeps the long exponential backoff', async (t) => {
  // Answers every CONNECT with a 3.1.1 CONNACK "not authorized" (return code 5).
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end(Buffer.from([0x20, 0x02, 0x00, 0x05])));
    sock.on('error', () => sock.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const clock = new VirtualClock();
  const made = makeUplink(t, {
    brokers: [`mqtt://127.0.0.1:${port}`],
    clock,
    random: () => 1,
    uplink: { protocolVersion: 4, backoff: { initial: '1s', max: '60s', maxUnreachable: '5s' } },
  });
  made.uplink.start();
  assert.deepEqual(await backoffDelays(made, 5), [1000, 2000, 4000, 8000, 16000]);
});
