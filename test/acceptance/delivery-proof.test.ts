/**
 * The daemon against a Mosquitto whose ACL denies the gateway's topics. MQTT 3.1.1: PUBACK,
 * then silence; the gateway is unhealthy with the problem, logs it, and keeps its readings.
 * MQTT 5: PUBACK 0x87; the gateway is unhealthy with the reason code and the topic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { controlRequest } from '../../src/control/client';
import type { StatusSnapshot } from '../../src/daemon/view';
import { startDaemon } from '../helpers/daemon';
import { startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';

const config = (broker: string, protocolVersion: 4 | 5) => `gateway: { id: acl-gw, logLevel: info }
uplink:
  brokers: [${broker}]
  protocolVersion: ${protocolVersion}
  deliveryProof: { timeout: 500ms }
  backoff: { initial: 200ms, max: 1s }
outbox: { flushInterval: 20ms }
drivers:
  - kind: sim
    id: sim
    sensors:
      - { id: counter, waveform: counter, interval: 20ms }
`;

/** The status snapshot once `pred` holds for it. */
async function statusWhen(d: ReturnType<typeof startDaemon>, pred: (s: StatusSnapshot) => boolean, what: string): Promise<StatusSnapshot> {
  return waitFor(
    async () => {
      if (!fs.existsSync(d.socketPath)) return undefined;
      const s = (await controlRequest(d.socketPath, 'status')) as StatusSnapshot;
      return pred(s) ? s : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 100, what: `${what} (stderr: ${d.stderr.join('')})` },
  );
}

test('a broker that acknowledges but drops (3.1.1 ACL): status unhealthy with the problem, error in the journal, readings kept', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto({ acl: 'topic readwrite elsewhere/#' });
  t.after(() => broker.kill());
  const d = startDaemon({ config: config(broker.url, 4) });
  t.after(() => d.kill());
  const problem = 'broker acknowledges but does not deliver fieldgate/acl-gw/data: check its ACL (our probe did not come back within 500 ms)';
  const status = await statusWhen(d, (s) => s.problems.includes(problem), 'the delivery problem in status');
  assert.equal(status.healthy, false);
  const uplink = status.uplink as { state: string; ackedRows: number; delivery: { state: string } };
  assert.equal(uplink.state, 'online');
  assert.equal(uplink.delivery.state, 'not-delivered');
  assert.equal(uplink.ackedRows, 0, 'nothing counted as delivered');
  await waitFor(async () => ((await controlRequest(d.socketPath, 'status')) as StatusSnapshot).outbox.depth > 0, { what: 'readings kept in the outbox' });
  await d.waitLog((l) => l.level === 'error' && String(l.msg).startsWith('broker acknowledges but does not deliver fieldgate/acl-gw/data'), 5000, 'the error in the journal');
});

test('MQTT 5 refusals (0x87): status unhealthy with the reason code and the topic, rows counted as refused, none as delivered', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto({ acl: 'topic readwrite elsewhere/#' });
  t.after(() => broker.kill());
  const d = startDaemon({ config: config(broker.url, 5) });
  t.after(() => d.kill());
  const status = await statusWhen(d, (s) => s.problems.some((p) => p.startsWith('broker refuses fieldgate/acl-gw/data: PUBACK 0x87 ')), 'the refusal in status');
  assert.equal(status.healthy, false);
  const uplink = status.uplink as { ackedRows: number; rejected: number };
  assert.equal(uplink.ackedRows, 0);
  const refused = await statusWhen(d, (s) => (s.uplink as { rejected: number }).rejected > 0, 'rows set aside');
  assert.ok(refused.outbox.rejected > 0);
});
