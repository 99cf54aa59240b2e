import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { waitFor } from '../helpers/wait';
import { daemonStatus, waitOnline } from './command-harness';

/**
 * Rules against a real Modbus int16 holding register (an in-process Modbus TCP
 * slave the daemon process reaches over TCP): a PID output of 12.7 is written as
 * the 13 the register can hold and the gateway says 13; a rule file that sets
 * 12.7 is refused by the daemon's loader at its FILE:LINE:COL.
 */
const CONFIG = (broker: string, port: number) => `gateway: { id: gw }
uplink: { brokers: [${broker}], heartbeat: 1s, batch: { maxDelay: 50ms } }
drivers:
  - kind: modbus
    id: plc
    bus: { type: tcp, host: 127.0.0.1, port: ${port} }
    devices:
      - name: ctl
        unit: 1
        interval: 200ms
        sensors:
          - { id: boiler.temp, register: input, address: 0, type: int16, scale: 0.1 }
actuators:
  - { id: boiler.setpoint, driver: plc, type: number, min: 0, max: 100, target: { device: ctl, register: holding, address: 7, type: int16 } }
`;

test('a PID output to an int16 register is written as what the register holds; a set of 12.7 is refused at load', { timeout: 60_000 }, async (t) => {
  const model = new SlaveModel();
  const bank = model.addUnit(1);
  bank.input[0] = 100; // 10.0 °C with scale 0.1
  const slave = await startTcpSlave(model);
  t.after(() => slave.close());
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-rule-target-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  // e = 20 − 10 = 10; kp · e = 12.7
  fs.writeFileSync(path.join(rulesDir, 'pid.yaml'), 'rules:\n  - id: boiler-pid\n    pid: { input: boiler.temp, setpoint: 20, kp: 1.27, ki: 0, kd: 0, output: boiler.setpoint, min: 0, max: 100, sampleTime: 200ms }\n');
  const d = startDaemon({ config: CONFIG(broker.url, slave.port), dir, rulesDir });
  t.after(() => d.kill());
  await waitOnline(d.socketPath);
  await waitFor(() => bank.holding[7] === 13, { timeoutMs: 10_000, what: 'the PID output written to holding register 7' });
  const setpoint = (await daemonStatus(d.socketPath))?.actuators.find((a) => a.id === 'boiler.setpoint');
  assert.deepEqual([setpoint?.value, setpoint?.wanted, setpoint?.owner], [13, 13, 'boiler-pid'], 'the gateway says what the register holds');

  const bad = path.join(rulesDir, 'set.yaml');
  fs.writeFileSync(bad, 'rules:\n  - id: cold\n    when: boiler.temp < 5\n    then:\n      - set: { actuator: boiler.setpoint, value: 12.7 }\n');
  type Rules = { rules: { problems?: string[] } };
  const problems = await waitFor(async () => (await daemonStatus<Rules>(d.socketPath))?.rules.problems, { timeoutMs: 10_000, what: 'the rule set rejected' });
  // "      - set: { actuator: boiler.setpoint, value: " is 49 characters: the value starts at col 50
  assert.deepEqual(problems, [`${bad}:5:50: 12.7 cannot be written exactly to actuator "boiler.setpoint" (its target would hold 13); set 13, or set round: true on the actuator`]);
  assert.equal(await d.stop('SIGTERM'), 0);
});
