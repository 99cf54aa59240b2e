import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toolShims } from '../helpers/system-shims';
import { tempDir } from '../helpers/temp';

const repoRoot = path.resolve(__dirname, '..', '..');
const script = path.join(repoRoot, 'scripts', 'install.sh');

/** A built checkout in miniature: the real bin and unit, a stand-in dist, example config and rules. */
function fakeSource(dir: string): string {
  const src = path.join(dir, 'src');
  const write = (rel: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    fs.writeFileSync(path.join(src, rel), text, { mode });
  };
  write('package.json', '{"name":"fieldgate","version":"0.1.0"}\n');
  write('bin/fieldgate.js', fs.readFileSync(path.join(repoRoot, 'bin', 'fieldgate.js'), 'utf8'), 0o755);
  write('dist/src/cli/main.js', 'exports.main = async () => 0;\n');
  for (const unit of ['fieldgate.service', 'fieldgate-recover.timer', 'fieldgate-recover.service']) {
    write(`systemd/${unit}`, fs.readFileSync(path.join(repoRoot, 'systemd', unit), 'utf8'));
  }
  write('config/gateway.example.yaml', 'gateway:\n  id: example\n');
  write('rules/boiler.yaml', 'rules: []\n');
  write('rules/tank.yaml', 'rules: []\n');
  return src;
}

function install(root: string, src: string, ...extra: string[]) {
  const r = spawnSync('bash', [script, '--root', root, '--source', src, '--no-systemctl', '--no-npm', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** Every path under root with its type, mode and content hash (or link target). */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(root, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${fs.readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${mode}`);
        walk(p);
      } else out.push(`${rel} ${mode} ${createHash('sha256').update(fs.readFileSync(p)).digest('hex').slice(0, 12)}`);
    }
  };
  walk(root);
  return out;
}

test('install into a temp root lays out program, link, config, rules, state and unit', (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  const out = install(root, src);
  assert.match(out, /created .*\/etc\/fieldgate\/gateway\.yaml from gateway\.example\.yaml/);
  assert.equal(fs.readlinkSync(path.join(root, 'usr/local/bin/fieldgate')), '/opt/fieldgate/bin/fieldgate.js');
  assert.equal(fs.statSync(path.join(root, 'opt/fieldgate/bin/fieldgate.js')).mode & 0o777, 0o755);
  assert.ok(fs.existsSync(path.join(root, 'opt/fieldgate/dist/src/cli/main.js')));
  assert.equal(fs.readFileSync(path.join(root, 'etc/fieldgate/gateway.yaml'), 'utf8'), 'gateway:\n  id: example\n');
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc/fieldgate/rules.d')).sort(), ['boiler.yaml', 'tank.yaml']);
  assert.equal(fs.statSync(path.join(root, 'var/lib/fieldgate')).mode & 0o777, 0o750);
  assert.equal(
    fs.readFileSync(path.join(root, 'etc/systemd/system/fieldgate.service'), 'utf8'),
    fs.readFileSync(path.join(repoRoot, 'systemd/fieldgate.service'), 'utf8'),
  );
});

test('a second run changes nothing, and the engineer’s edits survive reinstall and upgrade', (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  install(root, src);
  const first = snapshot(root);
  assert.match(install(root, src), /done: 0 change\(s\)/);
  assert.deepEqual(snapshot(root), first);

  fs.writeFileSync(path.join(root, 'etc/fieldgate/gateway.yaml'), 'gateway:\n  id: site-42\n');
  fs.writeFileSync(path.join(root, 'etc/fieldgate/rules.d/boiler.yaml'), 'rules: [edited]\n');
  fs.writeFileSync(path.join(src, 'dist/src/cli/main.js'), 'exports.main = async () => 0; // v2\n');
  assert.match(install(root, src), /done: 1 change\(s\)/);
  assert.equal(fs.readFileSync(path.join(root, 'etc/fieldgate/gateway.yaml'), 'utf8'), 'gateway:\n  id: site-42\n');
  assert.equal(fs.readFileSync(path.join(root, 'etc/fieldgate/rules.d/boiler.yaml'), 'utf8'), 'rules: [edited]\n');
  assert.match(fs.readFileSync(path.join(root, 'opt/fieldgate/dist/src/cli/main.js'), 'utf8'), /v2/);
});

test('--uninstall keeps config and data; --purge removes them', (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  install(root, src);
  fs.writeFileSync(path.join(root, 'var/lib/fieldgate/outbox.db'), 'data');
  install(root, src, '--uninstall');
  assert.equal(fs.existsSync(path.join(root, 'opt/fieldgate')), false);
  assert.equal(fs.existsSync(path.join(root, 'usr/local/bin/fieldgate')), false);
  assert.equal(fs.existsSync(path.join(root, 'etc/systemd/system/fieldgate.service')), false);
  assert.equal(fs.readFileSync(path.join(root, 'var/lib/fieldgate/outbox.db'), 'utf8'), 'data');
  assert.ok(fs.existsSync(path.join(root, 'etc/fieldgate/gateway.yaml')));
  install(root, src, '--uninstall', '--purge');
  assert.equal(fs.existsSync(path.join(root, 'etc/fieldgate')), false);
  assert.equal(fs.existsSync(path.join(root, 'var/lib/fieldgate')), false);
});

test('a fresh install with the example config does not enable or start the service and prints the next steps', (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  const shim = toolShims(dir);
  const r = spawnSync('bash', [script, '--root', root, '--source', src, '--no-npm'], { encoding: 'utf8', env: shim.env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /fieldgate is installed but NOT started: .*\/etc\/fieldgate\/gateway\.yaml is the example just copied/);
  assert.match(r.stdout, /Next steps:\n {2}1\. Edit .*gateway\.yaml/);
  assert.match(r.stdout, /3\. Check it: {2}fieldgate config check /);
  assert.deepEqual(shim.calls(), ['systemctl daemon-reload'], 'units loaded, nothing enabled or started');
  for (const unit of ['fieldgate.service', 'fieldgate-recover.timer', 'fieldgate-recover.service']) {
    assert.ok(fs.existsSync(path.join(root, 'etc/systemd/system', unit)), unit);
  }
});

const asRoot = process.getuid?.() === 0 ? false : 'useradd --prefix needs root';

/** root/etc as debootstrap leaves it: root, and Debian's dialout group; no gpio group. Returns the texts. */
function systemTree(root: string): Record<string, string> {
  const etc: Record<string, string> = {
    passwd: 'root:x:0:0:root:/root:/bin/bash\n',
    group: 'root:x:0:\ndialout:x:20:\n',
    shadow: 'root:*:19000:0:99999:7:::\n',
    gshadow: 'root:*::\ndialout:*::\n',
  };
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  for (const [name, text] of Object.entries(etc)) {
    fs.writeFileSync(path.join(root, 'etc', name), text, { mode: name.endsWith('shadow') ? 0o640 : 0o644 });
  }
  return etc;
}

test('--purge removes the user and the groups install.sh created, its drop-ins and its record, and keeps groups it found', { skip: asRoot }, (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  const etc = systemTree(root);
  const before = snapshot(root).filter((l) => !/^etc\/(passwd|group|shadow|gshadow) /.test(l));
  const out = install(root, src);
  assert.match(out, /created system group gpio/);
  assert.doesNotMatch(out, /created system group dialout/);
  assert.match(out, /created system user fieldgate/);
  const group = fs.readFileSync(path.join(root, 'etc/group'), 'utf8');
  assert.match(group, /^dialout:x:20:fieldgate$/m);
  assert.match(group, /^gpio:x:\d+:fieldgate$/m);
  assert.match(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), /^fieldgate:x:\d+:\d+:fieldgate gateway daemon:\/var\/lib\/fieldgate:\/usr\/sbin\/nologin$/m);
  // The engineer's own override (systemctl edit) is config too.
  fs.mkdirSync(path.join(root, 'etc/systemd/system/fieldgate.service.d'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/systemd/system/fieldgate.service.d/override.conf'), '[Service]\nEnvironment=X=1\n');

  const purged = install(root, src, '--uninstall', '--purge');
  assert.match(purged, /removed system user fieldgate/);
  assert.match(purged, /removed system group gpio/);
  // dialout was there before: only the membership install.sh added goes (with the user).
  assert.equal(fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8'), etc.passwd);
  assert.equal(fs.readFileSync(path.join(root, 'etc/group'), 'utf8'), etc.group);
  assert.equal(fs.readFileSync(path.join(root, 'etc/gshadow'), 'utf8'), etc.gshadow);
  // Left: what was there before, and the shadow tools' own backups (passwd-, group-, ...).
  const after = snapshot(root).filter((l) => !/^etc\/(passwd|group|shadow|gshadow)-? /.test(l));
  const emptyDirs = ['etc/systemd/', 'etc/systemd/system/', 'usr/', 'usr/local/', 'usr/local/bin/', 'var/', 'var/lib/', 'opt/'];
  assert.deepEqual(
    after.filter((l) => !emptyDirs.some((d) => l.startsWith(d + ' '))),
    before,
  );
});

test('a group that has other members by the time of --purge is kept, and the reason said', { skip: asRoot }, (t) => {
  const dir = tempDir(t, 'fg-install-', 0o755);
  const src = fakeSource(dir);
  const root = path.join(dir, 'root');
  systemTree(root);
  install(root, src);
  const r = spawnSync('usermod', ['--prefix', root, '-aG', 'gpio', 'root'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const purged = install(root, src, '--uninstall', '--purge');
  assert.match(purged, /kept group gpio \(created by install\.sh, but it has other members now: root\)/);
  assert.match(fs.readFileSync(path.join(root, 'etc/group'), 'utf8'), /^gpio:x:\d+:root$/m);
});
