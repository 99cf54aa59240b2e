/**
 * Outbox contract suite, run on a real SQLite file in a temp dir: order, batching,
 * ack-then-delete, eviction priority and counting, recovery after reopen, setAside, stats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { memoryLogger, silentLogger } from '../../src/core/logger';
import { reading, ReadingFlag } from '../../src/core/reading';
import { Outbox } from '../../src/outbox/outbox';
import { outboxSchema, type OutboxConfig } from '../../src/outbox/schema';

function tempDb(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-outbox-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'state', 'outbox.db');
}

function open(file: string, config: Partial<OutboxConfig> = {}, clock = new VirtualClock()) {
  return new Outbox({ path: file, config: { ...outboxSchema.parse({}), ...config }, clock, log: silentLogger });
}

test('readings come back in the order they were added, with every field intact', (t) => {
  const ob = open(tempDb(t));
  t.after(() => ob.close());
  ob.add(reading('a', 1000, 1.5));
  ob.add(reading('b', 1001, 'ON', 'uncertain', ReadingFlag.CLOCK_UNSYNCED));
  ob.add(reading('a', 1002, -3, 'bad', ReadingFlag.REPLAYED | ReadingFlag.CLOCK_UNSYNCED));
  ob.flush();
  assert.deepEqual(ob.peekReadings(0, 10), [
    { seq: 1, sensor: 'a', ts: 1000, value: 1.5, quality: 'good', flags: 0 },
    { seq: 2, sensor: 'b', ts: 1001, value: 'ON', quality: 'uncertain', flags: 2 },
    { seq: 3, sensor: 'a', ts: 1002, value: -3, quality: 'bad', flags: 3 },
  ]);
  assert.deepEqual(
    ob.peekReadings(1, 1).map((r) => r.seq),
    [2],
  );
});

test('readings wait in memory until flushRows or flushInterval, then commit in one go', async (t) => {
  const clock = new VirtualClock();
  const ob = open(tempDb(t), { flushRows: 3, flushInterval: 200 }, clock);
  t.after(() => ob.close());
  const commits: number[] = [];
  ob.onCommitted((info) => commits.push(info.readings));
  ob.add(reading('a', 1, 1));
  ob.add(reading('a', 2, 2));
  assert.equal(ob.peekReadings(0, 10).length, 0);
  clock.advance(199);
  assert.equal(ob.peekReadings(0, 10).length, 0);
  clock.advance(1);
  assert.equal(ob.peekReadings(0, 10).length, 2);
  ob.add(reading('a', 3, 3));
  ob.add(reading('a', 4, 4));
  ob.add(reading('a', 5, 5));
  assert.equal(ob.peekReadings(0, 10).length, 5, 'the third buffered reading fills the batch');
  assert.deepEqual(commits, [2, 3]);
  assert.equal(clock.pending(), 0, 'no flush timer left once the buffer is empty');
});

test('a message commits at once, after the readings added before it, with its properties', (t) => {
  const ob = open(tempDb(t));
  t.after(() => ob.close());
  ob.add(reading('a', 1, 1));
  ob.addMessage({
    topic: 'fieldgate/gw1/cmd/valve/result',
    payload: '{"ok":true}',
    priority: 'result',
    retain: false,
    qos: 1,
    properties: { correlationData: Buffer.from([1, 2, 3]), contentType: 'application/json' },
  });
  assert.deepEqual(
    ob.peekReadings(0, 10).map((r) => r.seq),
    [1],
  );
  const [m] = ob.peekMessages(0, 10);
  assert.equal(m.seq, 2);
  assert.equal(m.topic, 'fieldgate/gw1/cmd/valve/result');
  assert.equal(m.payload.toString(), '{"ok":true}');
  assert.equal(m.priority, 'result');
  assert.equal(m.retain, false);
  assert.equal(m.qos, 1);
  assert.deepEqual(m.properties, { contentType: 'application/json', correlationData: Buffer.from([1, 2, 3]) });
});

test('rows are deleted only by ack, and only the acknowledged ones', (t) => {
  const ob = open(tempDb(t));
  t.after(() => ob.close());
  for (let i = 1; i <= 5; i++) ob.add(reading('s', i, i));
  ob.addMessage({ topic: 'x/events', payload: 'e', priority: 'event' });
  ob.flush();
  assert.equal(ob.peekReadings(0, 10).length, 5, 'peeking does not consume');
  assert.equal(ob.ackReadings(1, 3), 3);
  assert.deepEqual(
    ob.peekReadings(0, 10).map((r) => r.seq),
    [4, 5],
  );
  assert.equal(ob.ackReadingSeqs([5]), 1);
  assert.equal(ob.stats().depth, 1);
  assert.equal(ob.ackMessage(6), true);
  assert.equal(ob.ackMessage(6), false);
  assert.equal(ob.stats().messages, 0);
});

test('over maxRows the oldest telemetry is evicted down to 99 %, messages kept, count persisted', (t) => {
  const file = tempDb(t);
  let ob = open(file, { maxRows: 100, flushRows: 1000 });
  ob.addMessage({ topic: 'x/events', payload: 'e1', priority: 'event' }); // seq 1
  ob.addMessage({ topic: 'x/events', payload: 'e2', priority: 'event' }); // seq 2
  for (let i = 0; i < 150; i++) ob.add(reading('s', i, i)); // seq 3..152
  ob.flush();
  // 150 readings > 100: keep floor(0.99 * 100) = 99 newest -> 51 evicted, seqs 3..53.
  const st = ob.stats();
  assert.equal(st.depth, 99);
  assert.equal(st.evicted, 51);
  assert.equal(st.messages, 2);
  assert.equal(ob.peekReadings(0, 1)[0].seq, 54);
  ob.close();
  ob = open(file, { maxRows: 100 });
  t.after(() => ob.close());
  assert.equal(ob.stats().evicted, 51, 'eviction count survives a restart');
  assert.equal(ob.stats().depth, 99);
});

test('over maxMB telemetry goes first; messages go only once no telemetry is left', (t) => {
  const log = memoryLogger('warn');
  const maxMB = 0.5; // 524 288 bytes, database and WAL together
  const file = tempDb(t);
  const ob = new Outbox({ path: file, config: outboxSchema.parse({ maxMB }), clock: new VirtualClock(), log });
  t.after(() => ob.close());
  ob.addMessage({ topic: 'x/events', payload: 'keep me', priority: 'event' }); // seq 1
  for (let i = 0; i < 40_000; i++) ob.add(reading(`s${i % 10}`, i, i * 0.5)); // seq 2..40001
  ob.flush();
  let st = ob.stats();
  assert.ok(st.bytes <= maxMB * 1024 * 1024, `bytes ${st.bytes} within budget`);
  assert.ok(st.evicted > 0);
  assert.equal(st.evicted + st.depth, 40_000, 'every reading is either kept or counted as evicted');
  assert.equal(st.messages, 1);
  const kept = ob.peekReadings(0, 40_000);
  assert.equal(kept.at(-1)?.seq, 40_001, 'the newest reading is kept');
  assert.equal(kept[0].seq, 40_002 - kept.length, 'kept readings are the newest, contiguous');
  assert.equal(log.lines.filter((l) => String(l.msg).includes('evicting')).length, 1, 'one log line per episode');

  ob.ackReadings(0, 40_001);
  const before = ob.stats().evicted;
  const big = Buffer.alloc(4096, 1);
  for (let i = 0; i < 150; i++) ob.addMessage({ topic: 'x/events', payload: big, priority: 'event' }); // seq 40002..40151
  st = ob.stats();
  assert.ok(st.bytes <= maxMB * 1024 * 1024);
  assert.ok(st.evicted > before, 'with no telemetry left, old messages are evicted');
  const msgs = ob.peekMessages(0, 100);
  assert.equal(msgs.at(-1)?.seq, 40_151);
  assert.equal(msgs.length + (st.evicted - before), 151, 'the "keep me" event plus 150 big ones, kept or counted');
});

test('reopening recovers committed rows and never reuses a sequence number', (t) => {
  const file = tempDb(t);
  let ob = open(file);
  ob.add(reading('a', 1, 1));
  ob.add(reading('b', 2, 'x'));
  ob.flush();
  ob.add(reading('c', 3, 3)); // close() commits what is buffered
  ob.close();
  ob = open(file);
  assert.deepEqual(
    ob.peekReadings(0, 10).map((r) => [r.seq, r.sensor, r.value]),
    [
      [1, 'a', 1],
      [2, 'b', 'x'],
      [3, 'c', 3],
    ],
  );
  ob.ackReadings(1, 3);
  ob.close();
  ob = open(file);
  t.after(() => ob.close());
  assert.equal(ob.lastCommittedSeq(), 3);
  ob.add(reading('a', 4, 4));
  ob.flush();
  assert.equal(ob.peekReadings(0, 10)[0].seq, 4);
});

test('setAside moves refused rows to the rejected table, counted persistently', (t) => {
  const file = tempDb(t);
  const clock = new VirtualClock(5000);
  let ob = open(file, {}, clock);
  for (let i = 1; i <= 4; i++) ob.add(reading('s', i, i));
  ob.addMessage({ topic: 'x/events', payload: 'e', priority: 'event' }); // seq 5
  assert.equal(ob.setAside([2, 4, 5, 99], 'PUBACK 0x97 quota exceeded'), 3);
  assert.deepEqual(
    ob.peekReadings(0, 10).map((r) => r.seq),
    [1, 3],
  );
  assert.equal(ob.peekMessages(0, 10).length, 0);
  const rej = ob.rejected();
  assert.deepEqual(
    rej.map((r) => [r.seq, r.kind, r.reason, r.at]),
    [
      [5, 'message', 'PUBACK 0x97 quota exceeded', 5000],
      [4, 'reading', 'PUBACK 0x97 quota exceeded', 5000],
      [2, 'reading', 'PUBACK 0x97 quota exceeded', 5000],
    ],
  );
  assert.deepEqual(JSON.parse(rej[1].body), { seq: 4, sensor: 's', ts: 4, value: 4, quality: 'good', flags: 0 });
  ob.close();
  ob = open(file);
  t.after(() => ob.close());
  assert.equal(ob.stats().rejected, 3);
  assert.equal(ob.stats().depth, 2);
});

test('stats report depth, messages, oldest timestamp and size', (t) => {
  const clock = new VirtualClock(10_000);
  const ob = open(tempDb(t), {}, clock);
  t.after(() => ob.close());
  assert.deepEqual({ ...ob.stats(), bytes: 0 }, { depth: 0, messages: 0, oldestTs: null, evicted: 0, rejected: 0, bytes: 0, pending: 0, commitErrors: 0, unstored: 0, lastSeq: 0 });
  ob.add(reading('a', 7000, 1));
  assert.equal(ob.stats().pending, 1);
  ob.addMessage({ topic: 'x/events', payload: 'e', priority: 'event' }); // committed at clock 10 000
  const st = ob.stats();
  assert.equal(st.depth, 1);
  assert.equal(st.messages, 1);
  assert.equal(st.oldestTs, 7000);
  assert.equal(st.pending, 0);
  assert.equal(st.lastSeq, 2);
  assert.ok(st.bytes >= 4096);
});
