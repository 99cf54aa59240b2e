import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startDaemon } from '../helpers/daemon';

// Three mistakes an engineer makes: a misspelt key, a duration without a valid
// unit, and a misspelt key deeper in a list. Positions are counted by hand below.
const BAD = `gateway:
  id: bad-gw
  logLevl: debug
drivers:
  - kind: sim
    id: sim
    sensors:
      - id: a.temp
        interval: 10 parsecs
        waveform: sine
      - id: b.temp
        wavefrom: ramp
`;

test('a config with three mistakes reports all three as FILE:LINE:COL and the daemon refuses to start', async (t) => {
  const d = startDaemon({ config: BAD });
  t.after(() => d.kill());
  const code = await d.exited;
  assert.equal(code, 1);
  const file = path.join(d.dir, 'gateway.yaml');
  const lines = d.stderr.join('').split('\n').filter((l) => l.startsWith(file + ':'));
  // 1) unknown key "logLevl": line 3, the key starts at column 3.
  // 2) "10 parsecs": line 9; "interval: " is 8 spaces + 10 chars, so the value starts at column 19.
  // 3) unknown key "wavefrom" in the second sensor: line 12, key at column 9 (8 spaces of indent).
  //    The same sensor also lacks the required "waveform" (reported at the sensor object, line 11 col 9).
  const positions = lines.map((l) => l.slice(file.length + 1).split(':').slice(0, 2).join(':'));
  assert.ok(positions.includes('3:3'), `unknown key at 3:3 in ${lines.join('\n')}`);
  assert.ok(positions.includes('9:19'), `bad duration at 9:19 in ${lines.join('\n')}`);
  assert.ok(positions.includes('12:9'), `unknown key at 12:9 in ${lines.join('\n')}`);
  assert.match(lines.join('\n'), /unknown key "logLevl"/);
  assert.match(lines.join('\n'), /duration/);
  assert.match(lines.join('\n'), /unknown key "wavefrom"/);
  // Nothing was started: no log line says the daemon is running.
  assert.equal(d.logs.filter((l) => l.msg === 'fieldgate running').length, 0);
});
