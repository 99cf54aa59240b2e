import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandFlood, FLOOD_MIX } from '../../scripts/command-flood';

/**
 * Issue 11, cases 2-4 from outside: 20 000 commands of every kind (12 000 to
 * unknown actuators, 5 000 to a cloud: false actuator, 173 with a 60 KB
 * actuator name, 1 000 junk ids to the real actuator, malformed, 8 000-deep and
 * oversize payloads) and 200 real ones, from an MQTT client through Mosquitto
 * into a daemon process.
 */
test('a flood of hostile commands: readings keep flowing, memory stays put, every real id gets exactly one result', { timeout: 180_000 }, async (t) => {
  const r = await commandFlood({ real: 200 });
  const junk = Object.values(FLOOD_MIX).reduce((a, b) => a + b, 0);
  assert.equal(r.sent, junk + 200);
  assert.ok(r.readingLag.samples >= 20, `readings kept arriving (${r.readingLag.samples})`);
  // The issue saw the loop blocked for 80 s (each command rewrote and fsynced commands.json). On
  // a shared 2-core CI machine the lag figures also count time the daemon was not scheduled at
  // all, so the test holds the median lag, the worst case, and the load-independent cost: the
  // daemon's CPU time per command (about 70 µs measured; the old code spent milliseconds each).
  t.diagnostic(JSON.stringify({ readingLag: r.readingLag, eventLoop: r.eventLoop, daemonCpuMs: r.daemonCpuMs }));
  assert.ok(r.readingLag.p50Ms < 20, `sensor timer late by p50 ${r.readingLag.p50Ms} ms`);
  assert.ok(r.readingLag.maxMs < 2000, `sensor timer late by up to ${r.readingLag.maxMs} ms`);
  assert.ok(r.daemonCpuMs / r.sent < 0.2, `daemon CPU ${r.daemonCpuMs} ms for ${r.sent} commands`);
  assert.ok(r.rssKb.after - r.rssKb.before < 50 * 1024, `RSS grew by ${r.rssKb.after - r.rssKb.before} kB`);
  assert.deepEqual(new Set(r.realFinals), new Set([1]), 'exactly one final result per real id');
  assert.equal(r.realApplied, 200);
  assert.equal(r.redelivered.answeredDuplicate, 10, 'redeliveries after the flood are recognised');
  assert.equal(r.redelivered.writesAfter, r.redelivered.writesBefore, 'and not applied again');
  assert.ok(r.maxResultsPerJunkId <= 1, `a junk id was answered ${r.maxResultsPerJunkId} times`);
  // Every delivered command is accounted for exactly once: applied (1 000 junk ids + 200 real to pump), rejected (answered), or dropped (counted).
  assert.equal(r.commands.applied, 1200);
  // (The 173 commands with a 60 KB topic exceed the maximumPacketSize the daemon announces: Mosquitto never delivers them.)
  assert.equal(r.commands.applied + r.commands.rejected + r.commands.dropped, r.sent - r.byKind.hugeName);
  assert.ok(r.commandLogBytes < 8 * 1024 * 1024, `command log ${r.commandLogBytes} bytes`);
});
