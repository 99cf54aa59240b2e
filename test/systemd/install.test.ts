import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
  write('systemd/fieldgate.service', fs.readFileSync(path.join(repoRoot, 'systemd', 'fieldgate.service'), 'utf8'));
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
  fs.writeFileSync(path.join(src, 'dist/src/cli/main.js'), 'exports.main = async () => 1; // v2\n');
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
