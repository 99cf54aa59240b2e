import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialPort } from 'serialport';
import type { CliIO } from '../../src/cli/command';
import { modbusCommand } from '../../src/cli/modbus';
import { SlaveModel, startTcpSlave } from '../helpers/modbus-slave';
import { SocatPair } from '../helpers/socat';

function capture(answer = false): CliIO & { stdout: string; stderr: string; asked: string[] } {
  const io = {
    stdout: '',
    stderr: '',
    asked: [] as string[],
    isTTY: false,
    env: {},
    out: (s: string) => void (io.stdout += s),
    err: (s: string) => void (io.stderr += s),
    confirm: async (q: string) => {
      io.asked.push(q);
      return answer;
    },
  };
  return io;
}

async function server(t: { after(fn: () => Promise<void>): void }) {
  const model = new SlaveModel();
  const bank = model.addUnit(4);
  const srv = await startTcpSlave(model);
  t.after(() => srv.close());
  return { model, bank, tcp: `127.0.0.1:${srv.port}` };
}

test('cli read: a float32 in CDAB order, human-readable and --json', async (t) => {
  const { bank, tcp } = await server(t);
  bank.holding[10] = 0xe979;
  bank.holding[11] = 0x42f6; // 123.456 as 0x42F6E979, low word first
  const io = capture();
  assert.equal(await modbusCommand.run(['read', '--tcp', tcp, '--unit', '4', '--holding', '10', '--type', 'float32', '--order', 'CDAB'], io), 0);
  assert.match(io.stdout, /^unit 4 holding 10 float32 CDAB: 123\.456\d* {2}\[0xe979 0x42f6\]\n$/);
  const j = capture();
  assert.equal(await modbusCommand.run(['read', '--tcp', tcp, '--unit', '4', '--holding', '10', '--count', '2', '--json'], j), 0);
  assert.deepEqual(JSON.parse(j.stdout).values, [
    { address: 10, value: 0xe979, raw: [0xe979] },
    { address: 11, value: 0x42f6, raw: [0x42f6] },
  ]);
});

test('cli read: coils, and an exception reported by name with exit 1', async (t) => {
  const { bank, tcp } = await server(t);
  bank.coils[2] = 1;
  bank.illegal.push({ table: 'input', from: 0, to: 9 });
  const io = capture();
  assert.equal(await modbusCommand.run(['read', '--tcp', tcp, '--unit', '4', '--coil', '1', '--count', '3', '--json'], io), 0);
  assert.deepEqual(JSON.parse(io.stdout).values.map((v: { value: number }) => v.value), [0, 1, 0]);
  const bad = capture();
  assert.equal(await modbusCommand.run(['read', '--tcp', tcp, '--unit', '4', '--input', '5'], bad), 1);
  assert.match(bad.stderr, /ILLEGAL DATA ADDRESS/);
});

test('cli write: asks for confirmation, writes nothing when refused, writes with --yes', async (t) => {
  const { model, bank, tcp } = await server(t);
  const refused = capture(false);
  assert.equal(await modbusCommand.run(['write', '--tcp', tcp, '--unit', '4', '--holding', '20', '--type', 'int32', '--', '-123456789'], refused), 1);
  assert.equal(refused.asked.length, 1);
  assert.equal(model.count(4, 16), 0);
  const yes = capture();
  assert.equal(await modbusCommand.run(['write', '--tcp', tcp, '--unit', '4', '--holding', '20', '--type', 'int32', '--yes', '--', '-123456789'], yes), 0);
  assert.equal(yes.asked.length, 0);
  assert.deepEqual([bank.holding[20], bank.holding[21]], [0xf8a4, 0x32eb]);
  const coil = capture(true);
  assert.equal(await modbusCommand.run(['write', '--tcp', tcp, '--unit', '4', '--coil', '9', 'on'], coil), 0);
  assert.equal(bank.coils[9], 1);
});

test('cli scan lists the unit ids that answer', async (t) => {
  const { model, tcp } = await server(t);
  model.addUnit(7).illegal.push({ table: 'holding', from: 0, to: 0 });
  const io = capture();
  assert.equal(await modbusCommand.run(['scan', '--tcp', tcp, '--units', '1-8', '--timeout', '50ms', '--json'], io), 0);
  const res = JSON.parse(io.stdout);
  assert.deepEqual(res.responding, [
    { unit: 4, answer: 'holding 0 = 0' },
    { unit: 7, answer: 'exception 2 ILLEGAL DATA ADDRESS' },
  ]);
});

test('cli refuses clearly when the serial port is held by another process', async (t) => {
  const cable = new SocatPair();
  t.after(() => cable.dispose());
  await cable.start();
  const holder = new SerialPort({ path: cable.a, baudRate: 9600, autoOpen: false }); // locks, like the daemon
  await new Promise<void>((resolve, reject) => holder.open((err) => (err ? reject(err) : resolve())));
  t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  const io = capture();
  assert.equal(await modbusCommand.run(['read', '--port', cable.a, '--baud', '9600', '--unit', '1', '--holding', '0'], io), 1);
  assert.match(io.stderr, /port in use — the fieldgate daemon probably owns it: stop it with systemctl stop fieldgate/);
});

test('cli usage errors', async () => {
  await assert.rejects(modbusCommand.run(['read', '--unit', '1', '--holding', '0'], capture()), /--port PATH --baud B, or --tcp/);
  await assert.rejects(modbusCommand.run(['read', '--tcp', 'h:1', '--unit', '1', '--holding', '0', '--coil', '1'], capture()), /exactly one of/);
  await assert.rejects(modbusCommand.run(['frobnicate'], capture()), /unknown subcommand/);
});
