import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualClock } from '../../src/core/clock';
import { silentLogger } from '../../src/core/logger';
import type { ControlEvent } from '../../src/arbiter/event';
import type { RequestResult } from '../../src/commands/requests';
import { Deployer } from '../../src/deploy/deployer';
import { loadRuleSet, parseRuleTexts } from '../../src/rules/load';
import { tempDir } from '../helpers/daemon';
import { main } from '../../src/cli/main';
import { captureIO } from '../cli/capture-io';

// Commit-confirmed across a restart, in virtual time: the deadline is kept in the
// state directory, so a new process rolls back at the same instant the old one would have.
const rule = (id: string) => `rules:\n  - id: ${id}\n    when: tank.level < 10\n    then:\n      - event: { severity: warning, message: "${id}" }\n`;
const sha = (t: string) => crypto.createHash('sha256').update(t).digest('hex');

function gateway(dir: string, clock: VirtualClock, healthy = () => undefined as string | undefined, config?: ConstructorParameters<typeof Deployer>[0]['config']) {
  const rulesDir = path.join(dir, 'rules.d');
  const events: ControlEvent[] = [];
  const finals: RequestResult[] = [];
  const ctx = { sensors: new Set(['tank.level']) };
  const deployer: Deployer = new Deployer({
    rulesDir,
    stateDir: path.join(dir, 'state'),
    keysDir: path.join(dir, 'keys'),
    allowUnsigned: true,
    keep: 5,
    confirmWindow: 120_000,
    clock,
    log: silentLogger,
    publishEvent: (e) => events.push(e),
    validate: (texts) => parseRuleTexts(texts, ctx),
    reload: () => {
      const res = loadRuleSet(rulesDir, ctx);
      if (res.ok) deployer.observe(res.set.sources);
      return res;
    },
    notConfirmable: healthy,
    publishFinal: (r) => finals.push(r),
    config,
  });
  return { deployer, events, finals, rulesDir };
}

test('a deploy waiting for confirmation when the process stops is rolled back by the next one at the same deadline', () => {
  const dir = tempDir('fg-confirm-');
  const clock = new VirtualClock();
  fs.mkdirSync(path.join(dir, 'rules.d'));
  fs.writeFileSync(path.join(dir, 'rules.d', 'old.yaml'), rule('old'));
  const a = gateway(dir, clock);
  a.deployer.start();
  const answer = a.deployer.deploy({ version: 1, rules: [{ name: 'new.yaml', text: rule('new'), sha256: sha(rule('new')) }] }, 'd-1');
  assert.equal(answer.confirmBy, clock.now() + 120_000);
  assert.deepEqual(fs.readdirSync(a.rulesDir), ['new.yaml']);
  clock.advance(60_000);
  a.deployer.stop(); // the process stops half-way through the window

  const b = gateway(dir, clock);
  b.deployer.start();
  clock.advance(59_999);
  assert.deepEqual(fs.readdirSync(b.rulesDir), ['new.yaml'], 'not before the deadline');
  assert.equal(b.finals.length, 0);
  clock.advance(1);
  assert.deepEqual(fs.readdirSync(b.rulesDir), ['old.yaml']);
  assert.equal(fs.readFileSync(path.join(b.rulesDir, 'old.yaml'), 'utf8'), rule('old'));
  assert.deepEqual(b.finals.map((f) => [f.id, f.ok, f.result]), [['d-1', false, { version: 1, state: 'rolled-back', to: null }]]);
  assert.equal(b.events.at(-1)?.type, 'deploy.rolledback');
  assert.equal(b.deployer.provenance()?.source, 'local');
});

test('auto-confirm waits for the gateway to be confirmable; manual confirm is refused while it is not', () => {
  const dir = tempDir('fg-confirm-auto-');
  const clock = new VirtualClock();
  let why: string | undefined = 'the uplink is backoff, not online';
  const g = gateway(dir, clock, () => why);
  g.deployer.start();
  g.deployer.deploy({ version: 4, confirm: 'auto', confirmWindow: '30s', rules: [{ name: 'a.yaml', text: rule('a'), sha256: sha(rule('a')) }] }, 'd-4');
  clock.advance(10_000);
  g.deployer.tick();
  assert.equal(g.finals.length, 0, 'not confirmed while not online');
  assert.throws(() => g.deployer.confirm(4), /^Error: version 4 cannot be confirmed now: the uplink is backoff, not online; it is rolled back at 2026-01-01T00:00:30\.000Z unless confirmed before$/);
  why = undefined;
  g.deployer.tick();
  assert.deepEqual(g.finals.map((f) => [f.id, f.ok, f.result]), [['d-4', true, { version: 4, state: 'confirmed', by: 'auto (healthy and online)' }]]);
  clock.advance(60_000);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'rules.d')), ['a.yaml'], 'a confirmed deploy stays');
  assert.equal(g.deployer.provenance()?.source, 'deploy');
});

test('fieldgate config versions: the kept versions, newest first, which runs and what waits for confirmation (no daemon)', async () => {
  const dir = tempDir('fg-versions-');
  const clock = new VirtualClock();
  const g = gateway(dir, clock);
  g.deployer.start();
  g.deployer.deploy({ version: 1, label: 'one', rules: [{ name: 'a.yaml', text: rule('a'), sha256: sha(rule('a')) }] }, 'd-1');
  g.deployer.confirm(1);
  clock.advance(60_000);
  g.deployer.deploy({ version: 2, rules: [{ name: 'b.yaml', text: rule('b'), sha256: sha(rule('b')) }] }, 'd-2');
  g.deployer.stop();
  const io = captureIO();
  assert.equal(await main(['config', 'versions', '--state', path.join(dir, 'state')], io), 0, io.stderr());
  assert.equal(
    io.stdout(),
    'VERSION  LABEL  KEY       APPLIED               FILES   STATE\n' +
      '      2         unsigned  2026-01-01 00:01:00Z  b.yaml  running, waiting for confirmation until 2026-01-01 00:03:00Z\n' +
      '      1  one    unsigned  2026-01-01 00:00:00Z  a.yaml  kept\n',
  );
  const json = captureIO();
  assert.equal(await main(['config', 'versions', '--state', path.join(dir, 'state'), '--json'], json), 0);
  assert.equal((JSON.parse(json.stdout()) as { running: number }).running, 2);
});

test('a config deploy confirmed after its restart: status says deployed version N while the file is that text, local once edited on site', () => {
  const dir = tempDir('fg-confirm-config-');
  const clock = new VirtualClock();
  const file = path.join(dir, 'gateway.yaml');
  const oldText = 'gateway: { id: gw }\n';
  const newText = 'gateway: { id: gw, logLevel: debug }\n';
  fs.writeFileSync(file, oldText);
  const restarts: string[] = [];
  const withConfig = (text: string) => {
    return gateway(dir, clock, undefined, { file, text, gatewayId: 'gw', check: () => ({ ok: true, gatewayId: 'gw' }), restart: (why) => restarts.push(why) }).deployer;
  };
  const first = withConfig(oldText);
  first.start();
  assert.deepEqual(first.configProvenance(), { source: 'local', hash: sha(oldText) });
  const answer = first.deploy({ version: 7, config: { text: newText, sha256: sha(newText) } }, 'c-7');
  assert.equal(answer.restart, true);
  assert.throws(() => first.confirm(7), /is confirmed after the restart that applies it/);
  clock.advance(500);
  assert.deepEqual(restarts, ['config version 7 deployed']);
  assert.equal(fs.readFileSync(file, 'utf8'), newText);
  first.stop();

  const second = withConfig(newText); // the process systemd started again
  second.start();
  assert.deepEqual(second.configProvenance(), { source: 'pending', version: 7, hash: sha(newText) });
  second.confirm(7);
  assert.deepEqual(second.configProvenance(), { source: 'deploy', version: 7, hash: sha(newText) });
  second.stop();
  const edited = withConfig(newText + '# tuned on site\n');
  assert.deepEqual(edited.configProvenance(), { source: 'local', hash: sha(newText + '# tuned on site\n') });
});
