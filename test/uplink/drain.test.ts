/** The drain in virtual time with a recording publisher (the wire seam): batching, window, acks, resends. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import { reading } from '../../src/core/reading';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema } from '../../src/outbox/schema';
import { decodeBatch } from '../../src/uplink/batch-format';
import { Drain, type Publish } from '../../src/uplink/drain';

function setup(t: { after: (fn: () => void) => void }, o: { maxReadings?: number; maxDelay?: number; inflight?: number } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-drain-'));
  const clock = new VirtualClock();
  const outbox = new Outbox({ path: path.join(dir, 'o.db'), config: outboxSchema.parse({}), clock, log: silentLogger });
  t.after(() => {
    outbox.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const drain = new Drain({
    outbox,
    clock,
    log: silentLogger,
    gatewayId: 'gw1',
    dataTopic: 'p/gw1/data',
    qos: 1,
    maxReadings: o.maxReadings ?? 3,
    maxDelay: o.maxDelay ?? 1000,
    inflight: o.inflight ?? 2,
  });
  const sent: Array<{ topic: string; payload: Buffer; done: (err?: Error) => void }> = [];
  const publish: Publish = (topic, payload, _opts, done) => sent.push({ topic, payload, done });
  const add = (...ts: number[]) => {
    for (const x of ts) outbox.add(reading('s', x, x));
    outbox.flush();
  };
  const tsOf = (i: number) => decodeBatch(sent[i].payload).r.map((r) => r[1]);
  return { clock, outbox, drain, sent, publish, add, tsOf };
}

test('a live partial batch waits up to maxDelay; a full batch goes at once', (t) => {
  const { clock, drain, sent, publish, add, tsOf } = setup(t);
  drain.begin(publish, 0);
  add(1, 2);
  drain.pump();
  assert.equal(sent.length, 0);
  clock.advance(999);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(tsOf(0), [1, 2]);
  add(3, 4, 5);
  drain.pump();
  assert.deepEqual(tsOf(1), [3, 4, 5]);
});

test('a backlog stored before CONNACK is sent at once, flagged REPLAYED', (t) => {
  const { drain, sent, publish, add } = setup(t);
  add(1, 2);
  drain.begin(publish, 2);
  assert.deepEqual(decodeBatch(sent[0].payload).r, [
    ['s', 1, 1, 0, 1],
    ['s', 2, 2, 0, 1],
  ]);
});

test('at most `inflight` messages are unacknowledged; an ack deletes its rows and frees a slot', (t) => {
  const { outbox, drain, sent, publish, add, tsOf } = setup(t);
  add(1, 2, 3, 4, 5, 6, 7, 8, 9);
  drain.begin(publish, 9);
  assert.equal(sent.length, 2, 'window of 2');
  assert.equal(outbox.stats().depth, 9);
  sent[1].done(); // acks may come out of order
  assert.equal(outbox.stats().depth, 6);
  assert.equal(sent.length, 3);
  assert.deepEqual(tsOf(2), [7, 8, 9]);
  assert.deepEqual(drain.stats(), { published: 3, ackedRows: 3, duplicates: 0, rejected: 0, inflight: 2 });
});

test('after a disconnect, unacknowledged rows are sent again and counted; stale acks are ignored', (t) => {
  const { outbox, drain, sent, publish, add, tsOf } = setup(t);
  add(1, 2, 3, 4, 5, 6);
  drain.begin(publish, 6);
  sent[0].done();
  drain.end();
  sent[1].done(); // PUBACK callback of the dead connection
  assert.equal(outbox.stats().depth, 3, 'the stale ack deleted nothing');
  drain.begin(publish, 6);
  assert.deepEqual(tsOf(2), [4, 5, 6]);
  assert.equal(drain.stats().duplicates, 3);
});

test('a refusal (reason code >= 0x80) sets the rows aside; other errors leave them for the next session', (t) => {
  const { outbox, drain, sent, publish, add } = setup(t);
  add(1, 2, 3, 4, 5, 6);
  drain.begin(publish, 6);
  sent[0].done(Object.assign(new Error('Quota exceeded'), { code: 0x97 }));
  sent[1].done(new Error('Connection closed'));
  assert.equal(outbox.stats().rejected, 3);
  assert.equal(outbox.stats().depth, 3);
  assert.match(outbox.rejected(1)[0].reason, /^PUBACK 0x97: Quota exceeded/);
});

test('events and results are sent before readings, to their own topic', (t) => {
  const { outbox, drain, sent, publish, add } = setup(t);
  add(1, 2, 3);
  outbox.addMessage({ topic: 'p/gw1/events', payload: 'alarm', priority: 'event' });
  drain.begin(publish, 4);
  assert.deepEqual(
    sent.map((s) => s.topic),
    ['p/gw1/events', 'p/gw1/data'],
  );
  sent[0].done();
  assert.equal(outbox.stats().messages, 0);
});

test('a live partial batch is not read again from the outbox on every commit while it fills', (t) => {
  const { clock, outbox, drain, sent, publish, add, tsOf } = setup(t, { maxReadings: 500 });
  let peeks = 0;
  const peek = outbox.peekReadingBatch.bind(outbox);
  outbox.peekReadingBatch = (after, limit) => {
    peeks++;
    return peek(after, limit);
  };
  drain.begin(publish, 0);
  // Five commits of 80 readings (as the outbox flushes every 200 ms), each followed by a pump.
  for (let c = 0; c < 5; c++) {
    add(...Array.from({ length: 80 }, (_, i) => 1 + c * 80 + i));
    drain.pump();
    clock.advance(100);
  }
  assert.equal(sent.length, 0, '400 < 500 readings: the batch waits for maxDelay');
  assert.equal(peeks, 0, 'nothing read while the batch cannot be full');
  // maxDelay (1 s) after the first commit the 400 readings go in one message, read once.
  clock.advance(500);
  assert.equal(sent.length, 1);
  assert.equal(tsOf(0).length, 400);
  assert.deepEqual([tsOf(0)[0], tsOf(0)[399]], [1, 400]);
  assert.equal(peeks, 1);
});
