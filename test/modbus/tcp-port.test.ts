import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { ModbusError } from '../../drivers/modbus/errors';
import { ModbusSerialTransport } from '../../drivers/modbus/transport';

/**
 * The Modbus TCP framing of ModbusSerialTransport (drivers/modbus/tcp-port.ts) against
 * a scripted peer that sees the bytes on the wire and answers however the case needs.
 * Expected frames are written out from the Modbus Messaging on TCP/IP Implementation
 * Guide v1.0b (MBAP: transaction id, protocol id 0, length of unit id + PDU).
 */
interface Peer {
  port: number;
  /** Every ADU received, in order. */
  received: Buffer[];
  /** The socket of the current connection. */
  socket(): net.Socket;
  /** Resolves when `n` ADUs have arrived in all. */
  requests(n: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

async function startPeer(t: { after(fn: () => Promise<void> | void): void }): Promise<Peer> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  let waiters: { n: number; resolve: (b: Buffer[]) => void }[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    let rx = Buffer.alloc(0);
    s.on('data', (chunk) => {
      rx = Buffer.concat([rx, chunk]);
      while (rx.length >= 6 && rx.length >= 6 + rx.readUInt16BE(4)) {
        const len = 6 + rx.readUInt16BE(4);
        received.push(rx.subarray(0, len));
        rx = rx.subarray(len);
      }
      waiters = waiters.filter((w) => (received.length >= w.n ? (w.resolve(received.slice(0, w.n)), false) : true));
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const peer: Peer = {
    port: (server.address() as net.AddressInfo).port,
    received,
    socket: () => sockets[sockets.length - 1],
    requests: (n) => (received.length >= n ? Promise.resolve(received.slice(0, n)) : new Promise((resolve) => waiters.push({ n, resolve }))),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  t.after(() => peer.close());
  return peer;
}

function transportTo(t: { after(fn: () => Promise<void> | void): void }, port: number, connectTimeoutMs = 3000): ModbusSerialTransport {
  const tr = new ModbusSerialTransport({ type: 'tcp', host: '127.0.0.1', port }, connectTimeoutMs);
  t.after(() => tr.close());
  return tr;
}

/** A FC3 answer ADU: MBAP, unit, 03, byte count, the words. */
function fc3Answer(tid: number, unit: number, words: number[]): Buffer {
  const b = Buffer.alloc(9 + 2 * words.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(3 + 2 * words.length, 4);
  b[6] = unit;
  b[7] = 3;
  b[8] = 2 * words.length;
  words.forEach((w, i) => b.writeUInt16BE(w, 9 + 2 * i));
  return b;
}

async function rejection(p: Promise<unknown>): Promise<ModbusError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ModbusError, `a ModbusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

/** An open transport to a fresh peer with one read in flight (10 s timeout) that the peer has received. */
async function inFlight(t: { after(fn: () => Promise<void> | void): void }) {
  const peer = await startPeer(t);
  const tr = transportTo(t, peer.port);
  const dropped: ModbusError[] = [];
  tr.onDisconnect((e) => dropped.push(e));
  await tr.open();
  const reading = tr.read(1, 'holding', 0, 1, 10_000);
  reading.catch(() => undefined); // awaited by the test; not an unhandled rejection meanwhile
  await peer.requests(1);
  return { peer, tr, dropped, reading };
}

test('modbus tcp: the request goes out as the MBAP frame of the spec, and an answer arriving a byte at a time is read', async (t) => {
  const peer = await startPeer(t);
  const tr = transportTo(t, peer.port);
  await tr.open();
  const reading = tr.read(7, 'holding', 0x006b, 3, 2000);
  const [req] = await peer.requests(1);
  // tid 1, protocol 0, length 6, unit 7, FC3, address 0x006B, quantity 3 (the spec's FC3 example).
  assert.deepEqual([...req], [0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x07, 0x03, 0x00, 0x6b, 0x00, 0x03]);
  const answer = fc3Answer(1, 7, [0x022b, 0x0000, 0x0064]);
  for (const byte of answer) {
    peer.socket().write(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await reading, [555, 0, 100]);
});

test('modbus tcp: two answers in one segment, in the other order, each reach their own request', async (t) => {
  const peer = await startPeer(t);
  const tr = transportTo(t, peer.port);
  await tr.open();
  const a = tr.read(1, 'holding', 0, 2, 2000);
  const b = tr.read(1, 'holding', 10, 1, 2000);
  const [ra, rb] = await peer.requests(2);
  assert.equal(ra.readUInt16BE(0), 1);
  assert.equal(rb.readUInt16BE(0), 2);
  peer.socket().write(Buffer.concat([fc3Answer(2, 1, [0xbeef]), fc3Answer(1, 1, [1, 2])]));
  assert.deepEqual(await a, [1, 2]);
  assert.deepEqual(await b, [0xbeef]);
});

for (const [what, length] of [
  ['0', 0],
  ['65 535', 0xffff],
] as const) {
  test(`modbus tcp: an MBAP length of ${what} closes the link and fails the request at once, not at its timeout`, async (t) => {
    const { peer, tr, dropped, reading } = await inFlight(t);
    const t0 = Date.now();
    const bad = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x02, 0x00, 0x01]);
    bad.writeUInt16BE(length, 4);
    peer.socket().write(bad);
    const err = await rejection(reading);
    assert.equal(err.kind, 'port', err.message);
    assert.ok(Date.now() - t0 < 5000, 'failed by the link, long before the 10 s timeout');
    assert.equal(dropped.length, 1);
    assert.equal(tr.isOpen(), false);
  });
}

test('modbus tcp: a frame whose protocol id is not 0 is not taken for the answer', async (t) => {
  const peer = await startPeer(t);
  const tr = transportTo(t, peer.port);
  await tr.open();
  const reading = tr.read(1, 'holding', 0, 1, 300);
  await peer.requests(1);
  const foreign = fc3Answer(1, 1, [42]);
  foreign.writeUInt16BE(1, 2);
  peer.socket().write(foreign);
  assert.equal((await rejection(reading)).kind, 'timeout');
  // The stream is still framed: the next answer is read.
  const next = tr.read(1, 'holding', 0, 1, 2000);
  const reqs = await peer.requests(2);
  peer.socket().write(fc3Answer(reqs[1].readUInt16BE(0), 1, [43]));
  assert.deepEqual(await next, [43]);
});

test('modbus tcp: the peer closing fails the request in flight at once, and the transport opens again', async (t) => {
  const { peer, tr, dropped, reading } = await inFlight(t);
  peer.socket().destroy();
  assert.equal((await rejection(reading)).kind, 'port');
  assert.equal(dropped.length, 1);
  await tr.open();
  const again = tr.read(1, 'holding', 5, 1, 2000);
  const reqs = await peer.requests(2);
  assert.equal(reqs[1].readUInt16BE(0), 1, 'a new connection starts at transaction id 1');
  peer.socket().write(fc3Answer(1, 1, [9]));
  assert.deepEqual(await again, [9]);
});

test('modbus tcp: a connect the peer never completes fails after the connect timeout as a port error', async (t) => {
  // A listener that never accepts, with a backlog of 0: Linux completes one connection
  // into its accept queue and leaves every further SYN unanswered.
  const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => py.kill('SIGKILL'));
  const port = await new Promise<number>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  const filler = net.connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  t.after(() => filler.destroy());
  await new Promise((r) => filler.once('connect', r));
  const tr = transportTo(t, port, 300);
  const t0 = Date.now();
  const err = await rejection(tr.open());
  const elapsed = Date.now() - t0;
  assert.equal(err.kind, 'port', err.message);
  assert.match(err.message, /timed out/i);
  assert.ok(elapsed >= 250 && elapsed < 3000, `${elapsed} ms`);
  assert.equal(tr.isOpen(), false);
});
