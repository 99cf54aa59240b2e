import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startMosquitto } from '../helpers/mosquitto';
import { record } from '../helpers/mqtt-recorder';
import { startDaemon, tempDir } from '../helpers/daemon';
import { fieldgate } from '../helpers/cli';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { waitFor } from '../helpers/wait';

// Issue 10, case 8: a fault that escapes to the process, and an abnormal end the
// daemon cannot clean up after (kill -9), must both leave every output at its
// failsafe value. Outputs are a coil and a holding register of an independent
// Modbus TCP slave; the daemon drives them to heater on / valve 80 at start.
const CONFIG = (broker: string, port: number) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: modbus
    id: plc
    bus: { type: tcp, host: 127.0.0.1, port: ${port} }
    devices:
      - name: boiler
        unit: 1
        interval: 500ms
        sensors: [ { id: boiler.temp, register: holding, address: 10 } ]
actuators:
  - { id: heater, driver: plc, target: { device: boiler, register: coil, address: 0 }, type: bool, initial: true, failsafe: false }
  - { id: valve, driver: plc, target: { device: boiler, register: holding, address: 1 }, type: number, min: 0, max: 100, initial: 80, failsafe: 0 }
`;

async function plant(t: { after(fn: () => unknown): void }) {
  const model = new SlaveModel();
  const bank = model.addUnit(1);
  bank.holding[10] = 55;
  const slave = await startTcpSlave(model);
  t.after(() => slave.close());
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  return { bank, slave, broker };
}

test('kill -9 skips the daemon\'s own failsafe writes; `fieldgate failsafe` (the unit\'s ExecStopPost) writes each one and logs it', { timeout: 60_000 }, async (t) => {
  const { bank, slave, broker } = await plant(t);
  const dir = tempDir('fg-crash-');
  const d = startDaemon({ config: CONFIG(broker.url, slave.port), dir });
  t.after(() => d.kill());
  await waitFor(() => bank.coils[0] === 1 && bank.holding[1] === 80, { timeoutMs: 15_000, what: 'initial values written to the slave' });
  await d.kill(); // SIGKILL: no failsafe writes
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(bank.coils[0], 1, 'the heater is still on after kill -9');
  assert.equal(bank.holding[1], 80);

  // As systemd runs it after a kill: SERVICE_RESULT=signal, EXIT_CODE=killed, EXIT_STATUS=KILL.
  const env = { SERVICE_RESULT: 'signal', EXIT_CODE: 'killed', EXIT_STATUS: 'KILL' };
  const r = await fieldgate(['failsafe', '--config', d.configFile, '--state', d.stateDir, '--socket', d.socketPath], { env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(bank.coils[0], 0, 'heater off');
  assert.equal(bank.holding[1], 0, 'valve closed');
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const written = lines.filter((l) => l.msg === 'failsafe written');
  assert.deepEqual(written.map((l) => [l.actuator, l.driver, l.value]).sort(), [['heater', 'plc', false], ['valve', 'plc', 0]]);
  assert.match(String(lines.find((l) => l.level === 'warn')?.why), /the service ended: signal \(killed KILL\)/);

  // After a clean stop the daemon wrote them itself: the ExecStopPost run only says so.
  const clean = await fieldgate(['failsafe', '--config', d.configFile, '--state', d.stateDir], { env: { SERVICE_RESULT: 'success', EXIT_CODE: 'exited', EXIT_STATUS: '0' } });
  assert.equal(clean.code, 0);
  assert.match(clean.stdout, /clean stop: the daemon wrote its failsafe values itself; nothing to do/);
});

test('fieldgate failsafe refuses while the daemon runs, and reports a write that fails', { timeout: 60_000 }, async (t) => {
  const { bank, slave, broker } = await plant(t);
  const d = startDaemon({ config: CONFIG(broker.url, slave.port) });
  t.after(() => d.kill());
  await waitFor(() => bank.coils[0] === 1, { timeoutMs: 15_000, what: 'the daemon writing' });
  const running = await fieldgate(['failsafe', '--config', d.configFile, '--state', d.stateDir, '--socket', d.socketPath]);
  assert.equal(running.code, 1);
  assert.match(running.stderr, /the daemon is running/);
  assert.equal(bank.coils[0], 1, 'nothing written under a running daemon');
  await d.kill();
  bank.illegal.push({ table: 'holding', from: 1, to: 1 }); // the valve register refuses writes (exception 02)
  const r = await fieldgate(['failsafe', '--config', d.configFile, '--state', d.stateDir, '--socket', d.socketPath]);
  assert.equal(r.code, 1);
  assert.equal(bank.coils[0], 0, 'the heater is still written');
  const failed = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'failsafe write failed');
  assert.equal(failed?.actuator, 'valve');
});

test('an uncaught exception in the daemon: failsafe values written, offline published, exit 1', { timeout: 60_000 }, async (t) => {
  const { bank, slave, broker } = await plant(t);
  const rec = await record(broker.url, 'fieldgate/test-gw/#', 'fieldgate/test-gw/');
  t.after(() => rec.close());
  const dir = tempDir('fg-fault-');
  // A fault thrown from a timer callback, exactly as a library bug would raise it, preloaded
  // into the real process; it fires once the test creates the trigger file. Main thread only:
  // NODE_OPTIONS also preloads it into tsx's module-loader worker, whose own fault would end
  // the process from the outside (a test artefact; the installed daemon has no such worker).
  const fault = path.join(dir, 'fault.js');
  const trigger = path.join(dir, 'fault-now');
  fs.writeFileSync(
    fault,
    "const fs = require('node:fs');\nif (require('node:worker_threads').isMainThread) {\nconst t = setInterval(() => { if (fs.existsSync(process.env.FAULT_TRIGGER)) { clearInterval(t); throw new Error('boom from a library callback'); } }, 50);\nt.unref();\n}\n",
  );
  const d = startDaemon({ config: CONFIG(broker.url, slave.port), dir, env: { NODE_OPTIONS: `--require ${fault}`, FAULT_TRIGGER: trigger } });
  t.after(() => d.kill());
  await waitFor(() => bank.coils[0] === 1 && bank.holding[1] === 80, { timeoutMs: 20_000, what: 'initial values written' });
  await waitFor(() => rec.on('status').some((m) => m.payload.toString() === 'online'), { timeoutMs: 10_000, what: 'online' });
  fs.writeFileSync(trigger, '');
  const code = await d.exited;
  assert.equal(code, 1, 'exits non-zero so systemd restarts a clean process');
  const stopLog = JSON.stringify(d.logs.slice(-12)) + d.stderr.join('');
  assert.equal(bank.coils[0], 0, `heater off; ${stopLog}`);
  assert.equal(bank.holding[1], 0, `valve closed; ${stopLog}`);
  const fault1 = d.logs.find((l) => /^uncaught exception/.test(String(l.msg)));
  assert.equal(fault1?.level, 'error', JSON.stringify(d.logs.filter((l) => l.level === 'error')));
  assert.match(String(fault1?.msg), /^uncaught exception: the process is in an unknown state/);
  assert.equal(fault1?.error, 'boom from a library callback');
  assert.deepEqual(d.logs.filter((l) => l.msg === 'failsafe on stop: written').map((l) => l.actuator).sort(), ['heater', 'valve']);
  assert.ok(d.logs.some((l) => l.msg === 'stopped after a fault; exiting 1'));
  assert.equal(rec.on('status').at(-1)?.payload.toString(), 'offline');
});
