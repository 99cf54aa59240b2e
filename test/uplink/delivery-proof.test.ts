/**
 * Delivery the gateway can prove: a real Mosquitto whose ACL denies the gateway's topics.
 * On MQTT 3.1.1 Mosquitto PUBACKs what its ACL denies and drops it, so a PUBACK proves
 * nothing; on MQTT 5 it answers with reason code 0x87. The uplink's round trip on its own
 * data topic tells the two apart from delivery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/core/clock';
import { reading } from '../../src/core/reading';
import { decodeBatch } from '../../src/uplink/batch-format';
import { startMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/wait';
import { makeUplink, observe, waitOnline } from './harness';

/** An ACL that lets anonymous clients do nothing under fieldgate/ (only an unrelated topic). */
const DENY_GATEWAY = 'topic readwrite elsewhere/#';

test('MQTT 3.1.1 and an ACL that denies the gateway: acknowledged but not delivered, so nothing is deleted and the uplink says so', async (t) => {
  const broker = await startMosquitto({ acl: DENY_GATEWAY });
  t.after(() => broker.kill());
  const clock = new VirtualClock();
  const { uplink, outbox, log } = makeUplink(t, { brokers: [broker.url], clock, uplink: { protocolVersion: 4, deliveryProof: { timeout: '5s' } } });
  for (let i = 0; i < 25; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  uplink.start();
  await waitOnline(uplink);
  await waitFor(() => uplink.stats().delivery.step === 'awaiting-echo', { what: 'the probe acknowledged by the broker' });
  assert.equal(uplink.stats().published, 0, 'no reading is sent before delivery is proven');
  await clock.advanceAsync(5000);
  // The verdict stands once the broker has acknowledged the UNSUBSCRIBE (real I/O, not virtual time).
  await waitFor(() => uplink.stats().delivery.state === 'not-delivered', { what: 'the verdict after the UNSUBACK' });
  const st = uplink.stats();
  assert.equal(st.ackedRows, 0);
  assert.equal(outbox.stats().depth, 25, 'every reading is still in the outbox');
  assert.deepEqual(uplink.problems(), [
    'broker acknowledges but does not deliver fieldgate/gw1/data: check its ACL (our probe did not come back within 5000 ms)',
  ]);
  const errors = log.lines.filter((l) => l.level === 'error' && String(l.msg).startsWith('broker acknowledges but does not deliver fieldgate/gw1/data'));
  assert.equal(errors.length, 1);
  // The next probe (30 s later) fails the same way: still nothing sent, not logged again.
  await waitFor(async () => {
    await clock.advanceAsync(30_000);
    return uplink.stats().delivery.step === 'awaiting-echo';
  });
  await clock.advanceAsync(5000);
  assert.equal(uplink.stats().published, 0);
  assert.equal(log.lines.filter((l) => l.level === 'error' && String(l.msg).startsWith('broker acknowledges')).length, 1);
});

test('MQTT 3.1.1 and an ACL that allows the gateway: the probe comes back, delivery is verified and readings flow', async (t) => {
  const broker = await startMosquitto({ acl: 'topic readwrite fieldgate/gw1/#' });
  t.after(() => broker.kill());
  const { got } = await observe(t, broker.url, ['fieldgate/gw1/data'], { protocolVersion: 4 }, true);
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], uplink: { protocolVersion: 4 } });
  uplink.start();
  await waitFor(() => uplink.stats().delivery.state === 'verified', { what: 'delivery verified' });
  assert.deepEqual(uplink.problems(), []);
  outbox.add(reading('a', 1, 7));
  outbox.flush();
  await waitFor(() => outbox.stats().depth === 0, { what: 'the reading acknowledged' });
  // The subscriber saw the probe (an empty batch) and then the reading.
  const batches = got.map((m) => decodeBatch(m.payload));
  assert.deepEqual(batches.map((b) => b.r), [[], [['a', 1, 7, 0, 0]]]);
});

test('MQTT 5 and an ACL that denies the gateway: the refusal (0x87) and its topic make the uplink unhealthy', async (t) => {
  const broker = await startMosquitto({ acl: DENY_GATEWAY });
  t.after(() => broker.kill());
  const { uplink, outbox } = makeUplink(t, { brokers: [broker.url], uplink: { batch: { maxReadings: 10, maxDelay: '10ms' } } });
  uplink.start();
  await waitFor(() => uplink.stats().delivery.state === 'refused', { what: 'probe refused' });
  for (let i = 0; i < 25; i++) outbox.add(reading('a', i, i));
  outbox.flush();
  await waitFor(() => outbox.stats().rejected === 25, { what: 'all 25 set aside' });
  const st = uplink.stats();
  assert.equal(st.ackedRows, 0);
  assert.match(st.delivery.detail ?? '', /^PUBACK 0x87 /);
  assert.deepEqual(st.refused.map((r) => [r.topic, r.rows]), [['fieldgate/gw1/data', 25]]);
  const problems = uplink.problems();
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^broker refuses fieldgate\/gw1\/data: PUBACK 0x87 /);
});
