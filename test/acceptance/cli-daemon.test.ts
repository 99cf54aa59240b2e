/**
 * The field diagnostics CLI as an engineer runs it: real `fieldgate` processes
 * (node --import tsx src/cli/main.ts) against a real daemon process running the
 * sim driver, a real Mosquitto, rules from fixtures/cli-daemon/rules.d, and
 * `watch` in a tmux pseudo-terminal. Expected values are computed by hand from
 * the config below and the fixture files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { controlRequest } from '../../src/control/client';
import type { BufferStats, CommandResultView, RuleRow, SensorRow, StageTrace, StatusSnapshot } from '../../src/daemon/view';
import type { ActuatorStatus } from '../../src/arbiter/arbiter';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir, type DaemonProcess } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';
import { cliEnv, fieldgate, MAIN, type CliResult } from '../helpers/cli';

const ROOT = path.resolve(__dirname, '../..');
const FIXTURES = path.join(__dirname, 'fixtures/cli-daemon');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/*
 * boiler.temp   constant 30 °C                   → rule boiler-overtemp (safety) active at once
 * tank.level    counter 200, 201, … every 200 ms → scale ÷10 → linearize → compensate by boiler.temp → round 1
 * line.pressure sine 1..3 bar over 4 s, sampled every 100 ms (changes on every sample)
 */
function gatewayConfig(broker: string): string {
  return `gateway: { id: cli-gw }
uplink:
  brokers: [${broker}]
  connectTimeout: 2s
  heartbeat: 1s
  backoff: { initial: 200ms, max: 1s }
  batch: { maxReadings: 100, maxDelay: 50ms }
outbox: { flushInterval: 20ms }
drivers:
  - kind: sim
    id: sim
    outputs: { heater: 0, fan: 0, valve: 0 }
    sensors:
      - { id: boiler.temp, unit: °C, waveform: constant, value: 30, interval: 200ms }
      - id: tank.level
        unit: cm
        waveform: counter
        start: 200
        interval: 200ms
        pipeline:
          - { kind: scale, rawMin: 0, rawMax: 1000, min: 0, max: 100 }
          - { kind: linearize, table: [[0, 0], [20, 30], [40, 40]] }
          - { kind: compensate, sensor: boiler.temp, coefficient: 0.123, reference: 20 }
          - { kind: round, decimals: 1 }
      - id: line.pressure
        unit: bar
        waveform: sine
        min: 1
        max: 3
        period: 4s
        interval: 100ms
        pipeline: [{ kind: round, decimals: 2 }]
actuators:
  - { id: heater, driver: sim, target: { output: heater }, type: bool, failsafe: false }
  - { id: fan, driver: sim, target: { output: fan }, type: bool }
  - { id: valve, driver: sim, target: { output: valve }, type: number, min: 0, max: 100 }
`;
}
const SENSORS = ['boiler.temp', 'tank.level', 'line.pressure'];
const UNITS: Record<string, string> = { 'boiler.temp': '°C', 'tank.level': 'cm', 'line.pressure': 'bar' };

function json<T>(r: CliResult): T {
  assert.equal(r.stderr, '', 'nothing on stderr');
  return JSON.parse(r.stdout) as T;
}

function closeTo(actual: unknown, expected: number, what: string): void {
  assert.equal(typeof actual, 'number', what);
  assert.ok(Math.abs((actual as number) - expected) < 1e-9, `${what}: ${String(actual)} ≈ ${expected}`);
}

describe('fieldgate CLI against a running daemon (sim driver, real Mosquitto)', { timeout: 60_000 }, () => {
  let broker: Mosquitto;
  let d: DaemonProcess;
  let sock: string;
  const cli = (...args: string[]) => fieldgate([...args, '--socket', sock]);

  before(async () => {
    broker = await startMosquitto();
    const dir = tempDir('fg-cli-');
    const rulesDir = path.join(dir, 'rules.d');
    fs.cpSync(path.join(FIXTURES, 'rules.d'), rulesDir, { recursive: true });
    d = startDaemon({ config: gatewayConfig(broker.url), dir, rulesDir });
    sock = d.socketPath;
    // Up, online, every sensor reported and the interlock in place.
    await waitFor(
      async () => {
        if (!fs.existsSync(sock)) return false;
        const s = (await controlRequest(sock, 'status')) as StatusSnapshot;
        const rows = (await controlRequest(sock, 'sensors')) as SensorRow[];
        return s.healthy && s.rules.active === 1 && rows.every((r) => r.value !== undefined);
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `a healthy daemon (stderr: ${d.stderr.join('')})` },
    );
  });
  after(async () => {
    await d?.kill();
    await broker?.kill();
    if (d) fs.rmSync(d.dir, { recursive: true, force: true });
  });

  test('status --json: healthy snapshot, exit 0', async () => {
    const r = await cli('status', '--json');
    assert.equal(r.code, 0);
    const s = json<StatusSnapshot & { actuators: ActuatorStatus[] }>(r);
    assert.equal(s.version, VERSION);
    assert.equal(s.gateway, 'cli-gw');
    assert.equal(s.healthy, true);
    assert.deepEqual(s.problems, []);
    assert.deepEqual(
      s.drivers.map((x) => [x.id, x.kind, x.state]),
      [['sim', 'sim', 'running']],
    );
    assert.equal(s.uplink.state, 'online');
    assert.equal(s.uplink.broker, broker.url);
    assert.equal(s.rules.loaded, 3);
    assert.equal(s.rules.active, 1);
    assert.equal(typeof s.outbox.depth, 'number');
    // The interlock holds the heater off.
    const heater = s.actuators.find((a) => a.id === 'heater');
    assert.equal(heater?.value, false);
    assert.equal(heater?.priority, 'safety');
  });

  test('status (human): header, drivers, actuators, uplink, outbox, rules', async () => {
    const r = await cli('status');
    assert.equal(r.code, 0);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], new RegExp(`^fieldgate ${VERSION.replace(/\./g, '\\.')} {2}gateway cli-gw {2}up \\S+ {2}OK$`));
    assert.ok(!r.stdout.includes('\x1b['), 'no colour when stdout is a pipe');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const drivers = at(/^Drivers$/);
    assert.ok(drivers > 0, r.stdout);
    assert.match(lines[drivers + 1], /^ {2}ID +KIND +STATE +RESTARTS +ERRORS +LAST ERROR$/);
    assert.match(lines[drivers + 2], /^ {2}sim +sim +running +0 +0$/);
    // The arbiter's view: the interlock holds the heater off; nothing has set fan or valve yet.
    const acts = at(/^Actuators$/);
    assert.ok(acts > drivers, r.stdout);
    assert.match(lines[acts + 1], /^ {2}ID +VALUE +HELD BY +WRITES +ERRORS +LAST ERROR$/);
    assert.match(lines[acts + 2], /^ {2}heater +false +boiler-overtemp \(safety\) +1 +0$/);
    assert.match(lines[acts + 3], /^ {2}fan +- +- +0 +0$/);
    assert.match(lines[acts + 4], /^ {2}valve +- +- +0 +0$/);
    // Times as times, unset fields left out.
    assert.match(r.stdout, new RegExp(`^Uplink +state online, broker ${broker.url.replace(/[.]/g, '\\.')}, .*connectedSince \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ`, 'm'));
    assert.doesNotMatch(r.stdout, /lastError -/);
    assert.match(r.stdout, /^Outbox +depth \d+, oldest \S+, evicted 0, disk \d+(\.\d)? (B|KiB|MiB)$/m);
    assert.match(r.stdout, /^Rules +3 loaded, 1 active; local files, sha256 [0-9a-f]{12}$/m);
    assert.ok(at(/^Last errors$/) > drivers);
  });

  test('sensors --json and human: one row per sensor with unit, quality and driver', async () => {
    const [j, h] = await Promise.all([cli('sensors', '--json'), cli('sensors')]);
    assert.equal(j.code, 0);
    const rows = json<SensorRow[]>(j);
    assert.deepEqual(rows.map((x) => x.id).sort(), [...SENSORS].sort());
    for (const row of rows) {
      assert.equal(row.unit, UNITS[row.id], row.id);
      assert.equal(row.driver, 'sim');
      assert.equal(row.quality, 'good');
      assert.equal(row.stale, false);
      assert.equal(row.errors, 0);
      assert.equal(typeof row.value, 'number');
      assert.ok(typeof row.ageMs === 'number' && row.ageMs >= 0 && row.ageMs < 2000, `${row.id} age ${row.ageMs}`);
    }
    assert.equal(rows.find((x) => x.id === 'boiler.temp')?.value, 30);
    const p = rows.find((x) => x.id === 'line.pressure')?.value as number;
    assert.ok(p >= 1 && p <= 3, `pressure ${p} within the sine's 1..3 bar`);

    assert.equal(h.code, 0);
    const lines = h.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^SENSOR +VALUE +UNIT +QUALITY +AGE +DRIVER +ERRORS +LAST ERROR$/);
    assert.equal(lines.length, 1 + SENSORS.length, h.stdout);
    for (const id of SENSORS) {
      const row = lines.find((l) => l.startsWith(id + ' '));
      assert.ok(row, `a row for ${id}`);
      const unit = UNITS[id].replace('.', '\\.');
      assert.match(row, new RegExp(`^${id.replace('.', '\\.')} +-?\\d+(\\.\\d+)? {2}${unit} +good +\\d+(ms|\\.\\ds) {2}sim +0$`), row);
    }
    assert.match(lines.find((l) => l.startsWith('boiler.temp'))!, /^boiler\.temp +30 {2}°C /);
  });

  test('read --json: raw counter value and the value after each stage, computed by hand', async () => {
    const r = await cli('read', 'tank.level', '--json', '--timeout', '5s');
    assert.equal(r.code, 0);
    const t = json<StageTrace>(r);
    assert.equal(t.sensor, 'tank.level');
    assert.deepEqual(t.raw.quality, 'good');
    const raw = t.raw.value as number;
    // counter from 200, one per 200 ms sample: within this test's minute it stays in 200..400,
    // so the scaled value stays in linearize's second segment [20, 40].
    assert.ok(Number.isInteger(raw) && raw >= 200 && raw < 400, `raw ${raw}`);
    assert.deepEqual(
      t.stages.map((s) => [s.stage, s.dropped, s.quality]),
      [
        ['scale', false, 'good'],
        ['linearize', false, 'good'],
        ['compensate', false, 'good'],
        ['round', false, 'good'],
      ],
    );
    const scaled = raw / 10; // 0 + (raw - 0)·(100 - 0)/(1000 - 0)
    const linear = 30 + ((scaled - 20) * (40 - 30)) / (40 - 20); // between [20, 30] and [40, 40]
    const compensated = linear - 0.123 * (30 - 20); // additive, boiler.temp 30 °C, reference 20 °C
    // compensated = 28.77 + (raw - 200)/20: hundredths are 7 or 2, never a tie when rounding to 0.1.
    const rounded = Math.round(compensated * 10) / 10;
    closeTo(t.stages[0].value, scaled, 'after scale');
    closeTo(t.stages[1].value, linear, 'after linearize');
    closeTo(t.stages[2].value, compensated, 'after compensate');
    closeTo(t.stages[3].value, rounded, 'after round');
    assert.deepEqual(t.output, { value: t.stages[3].value, quality: 'good' });
  });

  test('read (human): one row per stage between raw and output; unknown sensor exits 1', async () => {
    const [r, unknown] = await Promise.all([cli('read', 'line.pressure'), cli('read', 'no.such.sensor', '--json')]);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^line\.pressure at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.match(lines[1], /^STAGE +VALUE +QUALITY$/);
    assert.match(lines[2], /^raw +-?\d+(\.\d+)? {2}good$/);
    assert.match(lines[3], /^round +\d(\.\d{1,2})? {2}good$/);
    assert.match(lines[4], /^output +\d(\.\d{1,2})? {2}good$/);
    assert.equal(lines.length, 5);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stdout, '');
    assert.match(unknown.stderr, /^fieldgate read: .*unknown sensor "no\.such\.sensor"/);
  });

  test('actuate through the arbiter: accepted, rejected by the interlock, by range and type, unknown actuator', async () => {
    // Different actuators in parallel; the same actuator in order.
    const [fanOn, heaterOn, valve42, valveHigh, valveWord, nope] = await Promise.all([
      cli('actuate', 'fan', 'on', '--json'),
      cli('actuate', 'heater', 'on', '--json'),
      cli('actuate', 'valve', '42', '--json'),
      cli('actuate', 'valve', '150', '--json'),
      cli('actuate', 'valve', 'on', '--json'),
      cli('actuate', 'nope', '1', '--json'),
    ]);
    const ok = (r: CliResult) => {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return json<CommandResultView>(r);
    };
    const rejected = (r: CliResult, error: RegExp) => {
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const v = json<CommandResultView>(r);
      assert.equal(v.ok, false);
      assert.match(v.error ?? '', error);
      assert.match(v.id, /^local-/);
    };
    assert.equal(ok(fanOn).applied, true, '"on" means true for a bool actuator');
    assert.equal(ok(valve42).applied, 42);
    rejected(heaterOn, /blocked by safety rule .*boiler-overtemp/);
    rejected(valveHigh, /above the maximum 100/);
    rejected(valveWord, /takes a number, not "on"/);
    rejected(nope, /unknown actuator "nope"/);
    // "off" agrees with the interlock's hold: accepted.
    assert.equal(ok(await cli('actuate', 'heater', 'off', '--json')).applied, false);

    // The writes reached the sim driver's outputs.
    const status = async () => (await controlRequest(sock, 'status')) as StatusSnapshot & { actuators: ActuatorStatus[] };
    const outputs = async () => (await status()).drivers[0].detail?.outputs as Record<string, number>;
    await waitFor(async () => (await outputs()).fan === 1 && (await outputs()).valve === 42, { what: 'fan 1, valve 42 in the sim' });

    const fanOff = await cli('actuate', 'fan', 'off');
    assert.equal(fanOff.code, 0);
    assert.match(fanOff.stdout, /^fan = false: applied; held by local:local-\S+ \(command local-\S+\)\n$/);
    const human = await cli('actuate', 'heater', 'on');
    assert.equal(human.code, 1);
    assert.match(human.stdout, /^heater = on: rejected: blocked by safety rule .*boiler-overtemp.* \(command local-\S+\)\n$/);
    await waitFor(async () => (await outputs()).fan === 0, { what: 'fan 0 in the sim' });
    assert.equal((await outputs()).heater, 0, 'the heater never went on');
  });

  test('rules --json and human: states active / pending / idle, last fired, safety, file', async () => {
    const [j, h] = await Promise.all([cli('rules', '--json'), cli('rules')]);
    assert.equal(j.code, 0);
    const doc = json<{ running: string; rules: RuleRow[] }>(j);
    assert.equal(doc.running, 'rules-dir');
    const rows = doc.rules;
    const byId = new Map(rows.map((x) => [x.id, x]));
    assert.deepEqual([...byId.keys()].sort(), ['boiler-overtemp', 'pressure-high', 'tank-slow-fill']);
    const boiler = byId.get('boiler-overtemp')!;
    assert.equal(boiler.state, 'active');
    assert.equal(boiler.safety, true);
    assert.match(boiler.file, /boiler\.yaml$/);
    assert.ok(typeof boiler.lastFired === 'number' && boiler.lastFired <= Date.now() && boiler.lastFired > Date.now() - 60_000);
    assert.equal(byId.get('tank-slow-fill')?.state, 'pending', 'for: 1h has not elapsed');
    assert.equal(byId.get('tank-slow-fill')?.lastFired, undefined);
    assert.equal(byId.get('pressure-high')?.state, 'idle');
    assert.equal(byId.get('pressure-high')?.safety, false);
    assert.match(byId.get('pressure-high')!.file, /tank\.yaml$/);

    assert.equal(h.code, 0);
    const lines = h.stdout.trimEnd().split('\n');
    // Which set runs comes first: the rules directory's own, nothing rejected.
    assert.match(lines.shift() ?? '', /^rules from \S+rules\.d: 3 rule\(s\) accepted \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, running since /);
    assert.match(lines[0], /^RULE +STATE +LAST FIRED +SAFETY +FILE$/);
    assert.equal(lines.length, 4, h.stdout);
    assert.match(lines.find((l) => l.startsWith('boiler-overtemp'))!, /^boiler-overtemp +active +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +yes +\S*boiler\.yaml$/);
    assert.match(lines.find((l) => l.startsWith('tank-slow-fill'))!, /^tank-slow-fill +pending +- +no +\S*tank\.yaml$/);
    assert.match(lines.find((l) => l.startsWith('pressure-high'))!, /^pressure-high +idle +- +no +\S*tank\.yaml$/);
  });

  test('buffer --json and human while the uplink drains', async () => {
    const [j, h] = await Promise.all([cli('buffer', '--json'), cli('buffer')]);
    assert.equal(j.code, 0);
    const b = json<BufferStats>(j);
    for (const k of ['depth', 'messages', 'evicted', 'rejected', 'bytes'] as const) assert.equal(typeof b[k], 'number', k);
    assert.equal(b.evicted, 0);
    assert.equal(b.rejected, 0);
    assert.ok(b.bytes > 0, 'the outbox database has a size');
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Depth +\d+ reading\(s\) in \d+ message\(s\)\nOldest +.+\nEvicted +0\nRejected +0\nDisk +\d+(\.\d)? (B|KiB|MiB)\n$/);
  });

  test('watch piped with --json: one reading per line until SIGINT, then exit 0', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, 'watch', 'line.pressure', '--json', '--socket', sock], {
      cwd: ROOT,
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    let out = '';
    proc.stdout.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await waitFor(() => out.split('\n').length > 5, { timeoutMs: 10_000, what: '5 watched readings' });
      proc.kill('SIGINT');
      assert.equal(await exited, 0);
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    const readings = out.trimEnd().split('\n').map((l) => JSON.parse(l) as { sensor: string; ts: number; value: number; quality: string });
    assert.ok(readings.every((x) => x.sensor === 'line.pressure' && x.quality === 'good'));
    for (let i = 1; i < readings.length; i++) assert.ok(readings[i].ts > readings[i - 1].ts, 'timestamps increase');
  });

  const hasTmux = spawnSync('tmux', ['-V']).status === 0;
  test('watch in a terminal (tmux): values update on screen, Ctrl-C exits 0', { skip: hasTmux ? false : 'tmux is not installed (scripts/test-deps.sh)' }, async (t) => {
    // A private tmux server on its own socket, killed (with its panes) and removed in teardown.
    const tmuxDir = tempDir('fg-tmux-');
    const server = path.join(tmuxDir, 'tmux.sock');
    const tmux = (...args: string[]) => {
      const r = spawnSync('tmux', ['-S', server, '-f', '/dev/null', ...args], { cwd: ROOT, env: cliEnv(), encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    t.after(() => {
      spawnSync('tmux', ['-S', server, 'kill-server']);
      fs.rmSync(tmuxDir, { recursive: true, force: true });
    });
    // bash runs watch and prints its exit status on the screen: tmux 3.3 sometimes leaves an
    // exited pane process unreaped for seconds, so #{pane_dead} is not a reliable signal.
    // remain-on-exit keeps the screen readable after bash has exited.
    const script = '"$0" --import tsx "$1" watch --socket "$2"; echo "watch exited with status $?"';
    tmux(
      'new-session', '-d', '-s', 'w', '-x', '100', '-y', '20', '-c', ROOT,
      'bash', '-c', script, process.execPath, MAIN, sock,
      ';', 'set-option', '-t', 'w', 'remain-on-exit', 'on',
    );
    const screen = () => tmux('capture-pane', '-p', '-t', 'w');
    const rowOf = (text: string, id: string) => text.split('\n').find((l) => l.startsWith(id + ' '));
    const valueOf = (text: string, id: string) => rowOf(text, id)?.trim().split(/ +/)[1];

    const first = await waitFor(() => {
      const s = screen();
      return SENSORS.every((id) => rowOf(s, id)) ? s : undefined;
    }, { timeoutMs: 10_000, what: 'the watch screen' }).catch((err: Error) => {
      throw new Error(`${err.message}; screen:\n${screen()}`);
    });
    assert.match(first, /^fieldgate watch: 3 sensor\(s\), Ctrl-C to quit$/m);
    assert.match(first, /^SENSOR +VALUE +UNIT +QUALITY +AGE +HISTORY$/m);
    for (const id of SENSORS) {
      assert.match(rowOf(first, id)!, new RegExp(`^${id.replace('.', '\\.')} +-?\\d+(\\.\\d+)? {2}${UNITS[id]} +good +\\S+`));
    }
    // The screen is redrawn in place with new values and a growing sparkline.
    const later = await waitFor(() => {
      const s = screen();
      const moved = valueOf(s, 'line.pressure') !== valueOf(first, 'line.pressure') && valueOf(s, 'tank.level') !== valueOf(first, 'tank.level');
      return moved && /[▁▂▃▄▅▆▇█]{3,}$/.test(rowOf(s, 'line.pressure') ?? '') ? s : undefined;
    }, { timeoutMs: 10_000, what: 'updated values on screen' });
    assert.equal(valueOf(later, 'boiler.temp'), '30', 'the constant stays put');
    assert.equal(later.match(/^fieldgate watch:/gm)?.length, 1, 'redrawn in place, not appended');

    tmux('send-keys', '-t', 'w', 'C-c');
    const exit = await waitFor(() => /^watch exited with status (\d+)$/m.exec(screen())?.[1], {
      timeoutMs: 5_000,
      what: 'watch to exit after Ctrl-C',
    }).catch((err: Error) => {
      throw new Error(`${err.message}; screen:\n${screen()}`);
    });
    assert.equal(exit, '0', 'exit status 0 after Ctrl-C');
  });

  test('status exits 1 and names the problem once the broker is gone; the outbox fills', async () => {
    await broker.stop();
    await waitFor(async () => !((await controlRequest(sock, 'status')) as StatusSnapshot).healthy, { timeoutMs: 5_000, what: 'unhealthy' });
    await waitFor(async () => ((await controlRequest(sock, 'buffer')) as BufferStats).depth > 0, { timeoutMs: 5_000, what: 'a backlog' });
    const [j, h, b] = await Promise.all([cli('status', '--json'), cli('status'), cli('buffer', '--json')]);
    assert.equal(j.code, 1);
    const s = json<StatusSnapshot>(j);
    assert.equal(s.healthy, false);
    assert.notEqual(s.uplink.state, 'online');
    assert.ok(s.problems.some((p) => /^uplink is (connecting|backoff)/.test(p)), s.problems.join('; '));
    assert.equal(h.code, 1);
    assert.match(h.stdout, /^fieldgate \S+ {2}gateway cli-gw {2}up \S+ {2}DEGRADED\n {2}! uplink is (connecting|backoff)/);
    assert.equal(b.code, 0);
    const buf = json<BufferStats>(b);
    assert.ok(buf.depth > 0 && typeof buf.oldestTs === 'number' && typeof buf.oldestAgeMs === 'number');
  });

  test('once the daemon has stopped, every command says so and exits 3', async () => {
    assert.equal(await d.stop('SIGTERM'), 0);
    assert.equal(fs.existsSync(sock), false, 'the socket is removed on a clean stop');
    const expected = `fieldgate daemon is not running (no control socket at ${sock}); start it with systemctl start fieldgate\n`;
    const commands = [['status'], ['sensors'], ['watch'], ['read', 'tank.level'], ['actuate', 'fan', 'on'], ['rules'], ['buffer']];
    const results = await Promise.all(commands.map((c) => cli(...c, '--json')));
    results.forEach((r, i) => {
      assert.equal(r.code, 3, commands[i].join(' '));
      assert.equal(r.stderr, expected, commands[i].join(' '));
      assert.equal(r.stdout, '', commands[i].join(' '));
    });
  });
});

test('rules test: furnace-overtemp over a hand-written trace cuts at +11 s and switches back on at +16 s', async () => {
  const r = await fieldgate([
    'rules', 'test', path.join(ROOT, 'rules/furnace-overtemp.yaml'),
    '--trace', path.join(FIXTURES, 'furnace-trace.csv'),
    '--config', path.join(FIXTURES, 'furnace-gateway.yaml'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.pop(), '10 reading(s), 12 action(s)');
  // "<ISO time>  +<s>s  <who>  <what>"
  const actions = lines.map((l) => {
    const m = /^(\S+) +\+(\d+\.\d{3})s {2}(\S+) +(.+)$/.exec(l);
    assert.ok(m, l);
    assert.equal(Date.parse(m[1]) - Date.parse('2026-01-01T00:00:00Z'), Number(m[2]) * 1000, 'absolute and relative times agree');
    return [Number(m[2]), m[3], m[4]] as const;
  });
  // Computed by hand: see the comments in fixtures/cli-daemon/furnace-trace.csv.
  const expected: [number, string, RegExp][] = [
    [2, 'furnace-overtemp', /^pending for 5000 ms$/],
    [4, 'furnace-overtemp', /^idle\b/],
    [6, 'furnace-overtemp', /^pending for 5000 ms$/],
    [11, 'furnace-overtemp', /^fire$/],
    [11, 'furnace-overtemp', /^set furnace = false$/],
    [11, 'furnace', /^write false$/],
    [11, 'furnace-overtemp', /^alarm \[critical\] Furnace over temperature: 90 °C; heater cut$/],
    [13, 'furnace-overtemp', /^release$/],
    [13, 'furnace-overtemp', /^set furnace = true$/],
    // Off since 11 s with minOff 5s: the write of true waits until 16 s (3 s), and says why.
    [13, 'furnace', /^write of true deferred 3s by minOff 5s$/],
    [13, 'furnace-overtemp', /^alarm\.clear \[info\] /],
    [16, 'furnace', /^write true$/],
  ];
  assert.equal(actions.length, expected.length, r.stdout);
  expected.forEach(([at, who, what], i) => {
    assert.deepEqual([actions[i][0], actions[i][1]], [at, who], `action ${i + 1}: ${lines[i]}`);
    assert.match(actions[i][2], what, `action ${i + 1}`);
  });
});
