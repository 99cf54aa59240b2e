import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { toolShims } from '../helpers/system-shims';
import { tempDir } from '../helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
const installSh = path.join(repoRoot, 'scripts', 'install.sh');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

let work: string;
let bundle: string;
before(() => {
  // One real bundle of this checkout (npm test builds dist/ first), built only from node_modules here.
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-bundle-'));
  bundle = path.join(work, 'fieldgate.tar.gz');
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'bundle.sh'), '--out', bundle], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** A gateway without the internet: the registry is a closed port, npm is offline, and npm and systemctl are shims. */
function offlineEnv(dir: string) {
  const shims = toolShims(dir, { offlineNpm: true });
  return { env: { ...shims.env, npm_config_offline: 'true', npm_config_registry: 'http://127.0.0.1:9/' }, calls: shims.calls };
}

const BLE_CONFIG = `gateway: { id: site-1 }
drivers:
  - { kind: sim, id: sim, sensors: [{ id: a, waveform: sine }] }
  - kind: ble
    id: ble0
    devices: [{ address: "A4:C1:38:12:34:56", sensors: [{ id: t, field: temperature }] }]
`;

function exposure(root: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', `--root=${root}`, '--no-pager', 'fieldgate.service'], { encoding: 'utf8' });
  const m = /Overall exposure level for fieldgate\.service: (\d+\.\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout + r.stderr);
  return Number(m[1]);
}

test('install --bundle works without the registry: npm is never run and the installed CLI runs on the bundle’s node_modules', (t) => {
  const dir = tempDir(t, 'fg-offline-', 0o755);
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'etc/fieldgate'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/fieldgate/gateway.yaml'), BLE_CONFIG);
  const off = offlineEnv(dir);
  const r = spawnSync('bash', [installSh, '--root', root, '--bundle', bundle], { encoding: 'utf8', env: off.env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /installing from bundle .* without the network/);
  assert.match(r.stdout, /: OK — gateway "site-1", 2 driver\(s\)/);
  assert.deepEqual(off.calls(), [
    'systemctl daemon-reload',
    'systemctl enable fieldgate.service',
    'systemctl restart fieldgate.service',
  ]);
  // The installed program runs from the temp root with its own node_modules (nothing above /tmp has any).
  const cli = spawnSync(process.execPath, [path.join(root, 'opt/fieldgate/bin/fieldgate.js'), 'config', 'check', path.join(root, 'etc/fieldgate/gateway.yaml')], {
    encoding: 'utf8',
    cwd: dir,
  });
  assert.equal(cli.status, 0, cli.stderr);
  assert.ok(fs.existsSync(path.join(root, 'opt/fieldgate/node_modules/better-sqlite3')));
  assert.equal(fs.existsSync(path.join(root, 'opt/fieldgate/node_modules/typescript')), false, 'no dev dependencies');
  // The BLE site's drop-in, written from the config.
  const dropIn = fs.readFileSync(path.join(root, 'etc/systemd/system/fieldgate.service.d/50-fieldgate-drivers.conf'), 'utf8');
  assert.match(dropIn, /^AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN$/m);
  assert.match(dropIn, /^RestrictAddressFamilies=AF_BLUETOOTH$/m);

  // A second run changes nothing; without BLE in the config the drop-in loses the BLE grants.
  const again = spawnSync('bash', [installSh, '--root', root, '--bundle', bundle], { encoding: 'utf8', env: off.env });
  assert.equal(again.status, 0, again.stdout + again.stderr);
  assert.match(again.stdout, /done: 0 change\(s\)/);
  if (hasAnalyze) {
    const withBle = exposure(root);
    fs.writeFileSync(path.join(root, 'etc/fieldgate/gateway.yaml'), BLE_CONFIG.split('  - kind: ble')[0]);
    const third = spawnSync('bash', [installSh, '--root', root, '--bundle', bundle], { encoding: 'utf8', env: off.env });
    assert.equal(third.status, 0, third.stdout + third.stderr);
    const without = exposure(root);
    assert.ok(without < 2.5, `exposure without BLE ${without}`);
    assert.ok(without < withBle, `without BLE ${without} < with BLE ${withBle}`);
  }
});

test('a bundle built for another Node ABI is refused before anything is changed', (t) => {
  const dir = tempDir(t, 'fg-offline-', 0o755);
  const stage = path.join(dir, 'stage', 'fieldgate-0.1.0');
  fs.mkdirSync(stage, { recursive: true });
  fs.writeFileSync(path.join(stage, 'bundle.json'), JSON.stringify({ platform: process.platform, arch: process.arch, nodeAbi: '1' }));
  const other = path.join(dir, 'other.tar.gz');
  assert.equal(spawnSync('tar', ['-czf', other, '-C', path.join(dir, 'stage'), 'fieldgate-0.1.0']).status, 0);
  const root = path.join(dir, 'root');
  fs.mkdirSync(root);
  const r = spawnSync('bash', [installSh, '--root', root, '--bundle', other], { encoding: 'utf8', env: offlineEnv(dir).env });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(`was built for ${process.platform}-${process.arch}, Node ABI 1 but this machine is ${process.platform}-${process.arch}, Node ABI ${process.versions.modules}`),
  );
  assert.deepEqual(fs.readdirSync(root), [], 'nothing installed');
});

test('without a bundle and without the registry, install.sh stops before changing anything and says how to install offline', (t) => {
  const dir = tempDir(t, 'fg-offline-', 0o755);
  // A checkout that still needs npm ci && npm run build.
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'config'), { recursive: true });
  fs.writeFileSync(path.join(src, 'package.json'), '{"name":"fieldgate","version":"0.1.0"}\n');
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\n');
  const before = fs.readdirSync(root, { recursive: true }).sort();
  // The real npm, pointed at a closed port: `npm ping` fails at once.
  const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/' };
  const r = spawnSync('bash', [installSh, '--root', root, '--source', src, '--no-systemctl'], { encoding: 'utf8', env });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /the npm registry is not reachable.*run scripts\/bundle\.sh.*install\.sh --bundle FILE/s);
  assert.deepEqual(fs.readdirSync(root, { recursive: true }).sort(), before, 'no user, no file');
  assert.equal(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n');
});
