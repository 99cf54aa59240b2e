import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuTemperature, systemHealth } from '../../src/daemon/system-health';

test('CPU temperature is read from thermal_zone0 in millidegrees', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sys-'));
  fs.mkdirSync(path.join(root, 'class/thermal/thermal_zone0'), { recursive: true });
  fs.writeFileSync(path.join(root, 'class/thermal/thermal_zone0/temp'), '48312\n');
  assert.equal(cpuTemperature(root), 48.3);
});

test('no thermal zone: temperature left out, other figures present', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-sys-'));
  const h = systemHealth(root, root);
  assert.equal(h.cpuTempC, undefined);
  assert.ok(h.memTotalMB > 0);
  assert.ok((h.diskFreeMB ?? -1) >= 0);
});
