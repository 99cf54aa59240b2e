import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import { EXIT } from '../../src/cli/command';
import { rulesFromDaemon } from '../../src/cli/daemon-views';
import { FakeGatewayView } from '../control/fake-view';
import { startFakeDaemon } from '../control/helpers';
import { tempDir } from '../helpers/temp';
import { captureIO } from './capture-io';

async function run(argv: string[], io = captureIO()) {
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

test('status --json prints the snapshot and exits 0 when healthy', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['status', '--json', '--socket', socketPath]);
  assert.equal(r.code, EXIT.OK);
  assert.deepEqual(JSON.parse(r.out), new FakeGatewayView().status());
});

test('status exits 1 when the daemon reports unhealthy, and lists the problems', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  view.healthy = false;
  const r = await run(['status', '--socket', socketPath]);
  assert.equal(r.code, EXIT.FAIL);
  assert.match(r.out, /^fieldgate 0\.1\.0 {2}gateway test-gw {2}up 1h2m {2}DEGRADED\n {2}! driver rs485 in backoff\n/);
});

test('status human output (snapshot)', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['status', '--socket', socketPath]);
  assert.equal(r.code, EXIT.OK);
  assert.equal(
    r.out,
    [
      'fieldgate 0.1.0  gateway test-gw  up 1h2m  OK',
      '',
      'Drivers',
      '  ID     KIND    STATE    RESTARTS  ERRORS  LAST ERROR',
      '  sim1   sim     running         0       0',
      '  rs485  modbus  backoff         3      12  timeout on unit 4',
      '  zb     zigbee  running         0       0',
      '',
      'Uplink  state online, broker mqtts://broker.example:8883, inFlight 2',
      'Outbox  depth 120, oldest 1m, evicted 3, disk 1.5 KiB',
      'Rules   4 loaded, 1 active',
      '',
      'Last errors',
      '  TIME                  COMPONENT  MESSAGE',
      '  2026-01-01 11:59:55Z  rs485      timeout on unit 4',
      '',
    ].join('\n'),
  );
});

test('sensors human output (snapshot), no colour when not a TTY', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['sensors', '--socket', socketPath]);
  assert.equal(r.code, EXIT.OK);
  assert.equal(
    r.out,
    [
      'SENSOR        VALUE  UNIT  QUALITY           AGE  DRIVER  ERRORS  LAST ERROR',
      'boiler.temp    21.5  °C    good             3.2s  sim1         0',
      'tank.level     0.42  m     uncertain  5m (stale)  rs485       12  timeout',
      'door.open    closed        bad             800ms  zb           1',
      '',
    ].join('\n'),
  );
});

test('sensors on a TTY colours the stale row yellow and the bad row red', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['sensors', '--socket', socketPath], captureIO({ isTTY: true }));
  const lines = r.out.split('\n');
  assert.ok(!lines[1].includes('\x1b['), 'the good row is plain');
  assert.ok(lines[2].startsWith('\x1b[33mtank.level') && lines[2].endsWith('\x1b[39m'));
  assert.ok(lines[3].startsWith('\x1b[31mdoor.open') && lines[3].endsWith('\x1b[39m'));
});

test('sensors --json is the daemon rows', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['sensors', '--json', '--socket', socketPath]);
  assert.deepEqual(JSON.parse(r.out), new FakeGatewayView().sensors());
});

test('read shows the value after each stage (snapshot) and passes the timeout', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['read', 'boiler.temp', '--timeout', '3s', '--socket', socketPath]);
  assert.equal(r.code, EXIT.OK);
  assert.equal(
    r.out,
    [
      'boiler.temp at 2026-01-01 12:00:00Z',
      'STAGE   VALUE  QUALITY',
      'raw      2150  good',
      'scale    21.5  good',
      'round    21.5  good',
      'output   21.5  good',
      '',
    ].join('\n'),
  );
});

test('read of an unknown sensor prints the daemon error and exits 1', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['read', 'nope', '--socket', socketPath]);
  assert.equal(r.code, EXIT.FAIL);
  assert.equal(r.err, 'fieldgate read: unknown sensor "nope"\n');
});

test('actuate goes through the view, parses JSON values, and exits 1 when rejected', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const ok = await run(['actuate', 'pump', 'true', '--socket', socketPath]);
  assert.equal(ok.code, EXIT.OK);
  assert.equal(ok.out, 'pump = true: applied (command local-1)\n');
  const rejected = await run(['actuate', 'valve', 'open', '--socket', socketPath]);
  assert.equal(rejected.code, EXIT.FAIL);
  assert.equal(rejected.out, 'valve = open: rejected: interlock tank.low is active (command local-2)\n');
  assert.deepEqual(view.actuations, [
    { actuator: 'pump', value: true },
    { actuator: 'valve', value: 'open' },
  ]);
  const json = await run(['actuate', 'pump', '42', '--json', '--socket', socketPath]);
  assert.deepEqual(JSON.parse(json.out), { id: 'local-1', ok: true, applied: 42, ts: Date.UTC(2026, 0, 1, 12) });
});

test('buffer human output (snapshot) and --json', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['buffer', '--socket', socketPath]);
  assert.equal(
    r.out,
    [
      'Depth     120 reading(s) in 12 message(s)',
      'Oldest    1m ago (2026-01-01 11:58:25Z)',
      'Evicted   3',
      'Rejected  0',
      'Disk      1.5 KiB',
      '',
    ].join('\n'),
  );
  const j = await run(['buffer', '--json', '--socket', socketPath]);
  assert.deepEqual(JSON.parse(j.out), new FakeGatewayView().buffer());
});

test('rules from the daemon (snapshot)', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const io = captureIO();
  const code = await rulesFromDaemon(['--socket', socketPath], io);
  assert.equal(code, EXIT.OK);
  assert.equal(
    io.stdout(),
    [
      'rules from /etc/fieldgate/rules.d: 4 rule(s) accepted 2026-01-01 11:00:00Z, running since 2026-01-01 11:00:00Z',
      'RULE           STATE   LAST FIRED            SAFETY  FILE',
      'tank-low-stop  active  2026-01-01 11:59:00Z  yes     safety.yaml',
      'boiler-hot     idle    -                     no      boiler.yaml',
      '',
    ].join('\n'),
  );
});

test('zigbee commands find the only zigbee driver and call its operations', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  const devices = await run(['zigbee', 'devices', '--socket', socketPath]);
  assert.equal(devices.code, EXIT.OK);
  assert.equal(
    devices.out,
    ['IEEE          MODEL    LASTSEENS', '0x00124b0001  SNZB-02  12', '0x00124b0002  SNZB-04  340', ''].join('\n'),
  );
  const join = await run(['zigbee', 'permit-join', '--seconds', '30', '--socket', socketPath]);
  assert.equal(join.out, 'zb: joining permitted for 30s\n');
  const read = await run(['zigbee', 'read', '0x00124b0001', 'msTemperatureMeasurement', 'measuredValue', '--socket', socketPath]);
  assert.equal(read.out, '0x00124b0001 msTemperatureMeasurement.measuredValue = 2150\n');
  assert.deepEqual(view.driverCalls, [
    { driverId: 'zb', op: 'devices', args: [] },
    { driverId: 'zb', op: 'permitJoin', args: [30] },
    { driverId: 'zb', op: 'readAttribute', args: ['0x00124b0001', 'msTemperatureMeasurement', 'measuredValue'] },
  ]);
});

test('zigbee with several zigbee drivers asks for --driver', async (t) => {
  const { socketPath, view } = await startFakeDaemon(t);
  view.drivers = [...view.drivers, { id: 'zb2', kind: 'zigbee', state: 'running', restarts: 0, errors: 0 }];
  const r = await run(['zigbee', 'devices', '--socket', socketPath]);
  assert.equal(r.code, EXIT.USAGE);
  assert.match(r.err, /several zigbee drivers are configured \(zb, zb2\); choose one with --driver ID/);
});

test('every daemon command says the daemon is not running and exits 3 when there is no socket', async (t) => {
  const socketPath = path.join(tempDir(t, 'fg-ctl-', 0o755), 'control.sock');
  const expected = `fieldgate daemon is not running (no control socket at ${socketPath}); start it with systemctl start fieldgate\n`;
  for (const argv of [['status'], ['sensors'], ['watch'], ['read', 'x'], ['actuate', 'pump', '1'], ['buffer'], ['zigbee', 'devices']]) {
    const r = await run([...argv, '--socket', socketPath]);
    assert.equal(r.code, EXIT.NO_DAEMON, argv.join(' '));
    assert.equal(r.err, expected, argv.join(' '));
  }
});

test('the socket path comes from FIELDGATE_SOCKET when --socket is absent', async (t) => {
  const { socketPath } = await startFakeDaemon(t);
  const r = await run(['buffer', '--json'], captureIO({ env: { FIELDGATE_SOCKET: socketPath } }));
  assert.equal(r.code, EXIT.OK);
  assert.equal(JSON.parse(r.out).depth, 120);
});
