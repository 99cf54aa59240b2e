import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon } from '../helpers/daemon';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { daemonStatus, startCloud, waitOnline } from './command-harness';

/**
 * Cloud commands to real Modbus registers (an in-process Modbus TCP slave the
 * daemon process reaches over TCP), sent from an outside MQTT client through
 * Mosquitto: a result says ok only when the slave acknowledged the write.
 */
const CONFIG = (broker: string, port: number) => `gateway: { id: gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: modbus
    id: plc
    bus: { type: tcp, host: 127.0.0.1, port: ${port} }
    devices:
      - { name: ctl, unit: 1, interval: 1s, timeout: 300ms }
      - { name: ghost, unit: 9, interval: 1s, timeout: 200ms, retries: 0 }
actuators:
  - { id: setpoint, driver: plc, type: number, cloud: true, target: { device: ctl, register: holding, address: 10, type: int16 } }
  - { id: limit, driver: plc, type: number, cloud: true, target: { device: ctl, register: holding, address: 11, type: uint16 } }
  - { id: locked, driver: plc, type: number, cloud: true, target: { device: ctl, register: holding, address: 500, type: uint16 } }
  - { id: absent, driver: plc, type: number, cloud: true, target: { device: ghost, register: holding, address: 1, type: uint16 } }
`;

test('command results say what the Modbus device answered', { timeout: 60_000 }, async (t) => {
  const model = new SlaveModel();
  const bank = model.addUnit(1);
  bank.illegal.push({ table: 'holding', from: 500, to: 600 }); // answers exception 02
  const slave = await startTcpSlave(model);
  t.after(() => slave.close());
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const d = startDaemon({ config: CONFIG(broker.url, slave.port) });
  t.after(() => d.kill());
  const cloud = await startCloud(t, broker.url);
  await waitOnline(d.socketPath);
  const { send, final } = cloud;

  await send('setpoint', { id: 's1', value: 12 });
  const { ts, ...s1 } = await final('s1');
  assert.equal(typeof ts, 'number');
  assert.deepEqual(s1, { id: 's1', ok: true, status: 'applied', final: true, applied: 12, owner: 'cmd:s1' });
  assert.equal(bank.holding[10], 12, 'the slave holds what the result says');

  await send('setpoint', { id: 's2', value: 12.7 });
  const rounded = await final('s2');
  assert.equal(rounded.ok, false);
  assert.match(rounded.error ?? '', /12\.7 cannot be written exactly .*would hold 13/);
  assert.equal(bank.holding[10], 12, '12.7 was not written as 13');

  await send('limit', { id: 'l1', value: 70000 });
  assert.deepEqual([(await final('l1')).ok, (await final('l1')).error], [false, '70000 does not fit the uint16 register 11; not written']);

  await send('locked', { id: 'x1', value: 5 });
  const refused = await final('x1');
  assert.deepEqual([refused.ok, refused.status, refused.error], [false, 'failed', 'write failed: exception 2 ILLEGAL DATA ADDRESS']);
  const writesTo500 = () => model.requests.filter((r) => r.unit === 1 && r.fc === 6 && r.address === 500).length;
  assert.equal(writesTo500(), 1);

  await send('absent', { id: 'g1', value: 3 });
  const lost = await final('g1', 20_000);
  assert.deepEqual([lost.ok, lost.status], [false, 'failed']);
  assert.match(lost.error ?? '', /^write failed 3 times: /);

  // Nothing keeps retrying the refused or abandoned values, and status says no one holds them.
  const status = await daemonStatus(d.socketPath);
  for (const id of ['locked', 'absent']) {
    const a = status?.actuators.find((x) => x.id === id);
    assert.deepEqual([a?.owner, a?.wanted], [undefined, undefined], `${id} is left alone`);
  }
  assert.equal(writesTo500(), 1, 'exception 02 is not retried');
  assert.equal(cloud.got.filter((m) => m.body.final).length, 5, 'exactly one final result per command');
  await d.stop('SIGTERM');
});
