import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from 'mqtt';
import { startMosquitto } from '../helpers/mosquitto';
import { startDaemon, tempDir } from '../helpers/daemon';
import { waitFor } from '../helpers/wait';

// Issue 17: the birth message names the running rules and config (source, version, hash) as
// MQTT 5 user properties; the payload stays "online" for every consumer.
const CONFIG = (broker: string) => `gateway: { id: test-gw }
uplink: { brokers: [${broker}], heartbeat: 1s }
drivers:
  - kind: sim
    id: sim
    sensors: [ { id: t, waveform: constant, value: 1, interval: 1s } ]
`;

const RULE = 'rules:\n  - id: t-high\n    when: t > 5\n    then:\n      - event: { severity: info, message: "t high" }\n';

test('the retained birth "online" carries the rules\' and config\'s source and hash as user properties', { timeout: 30_000 }, async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.kill());
  const dir = tempDir('fg-birth-');
  const rulesDir = path.join(dir, 'rules.d');
  fs.mkdirSync(rulesDir);
  fs.writeFileSync(path.join(rulesDir, 'high.yaml'), RULE);
  const d = startDaemon({ config: CONFIG(broker.url), dir, rulesDir });
  t.after(() => d.kill());
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  // The manifest hash as docs/operations.md defines it: "rules NAME SHA256\n" per file, sorted by name.
  const rulesHash = sha(`rules high.yaml ${sha(RULE)}\n`);
  const births: { payload: string; props?: Record<string, string | string[]> }[] = [];
  const sub = connect(broker.url, { protocolVersion: 5, reconnectPeriod: 200 });
  t.after(() => sub.end(true));
  sub.on('message', (_t, payload, packet) => births.push({ payload: payload.toString(), props: packet.properties?.userProperties }));
  await new Promise<void>((resolve) => sub.once('connect', () => resolve()));
  await sub.subscribeAsync('fieldgate/test-gw/status', { qos: 1 });
  const birth = await waitFor(() => births.find((b) => b.payload === 'online' && b.props?.rulesHash), { timeoutMs: 15_000, what: 'the birth with its properties' });
  assert.equal(birth.props?.rulesSource, 'local');
  assert.equal(birth.props?.rulesHash, rulesHash);
  assert.equal(birth.props?.configSource, 'local');
  assert.equal(birth.props?.configHash, sha(fs.readFileSync(d.configFile, 'utf8')));
  await d.stop('SIGTERM');
});
