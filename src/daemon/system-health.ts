import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface SystemHealth {
  load1: number;
  load5: number;
  memFreeMB: number;
  memTotalMB: number;
  rssMB: number;
  diskFreeMB?: number;
  cpuTempC?: number;
}

/**
 * Host figures for the heartbeat. Reads a few small files; called once per
 * heartbeat, never per reading. Missing sources (no thermal zone on a VM) are
 * simply left out.
 */
export function systemHealth(stateDir: string, sysRoot = '/sys'): SystemHealth {
  const [load1, load5] = os.loadavg();
  const out: SystemHealth = {
    load1: round2(load1),
    load5: round2(load5),
    memFreeMB: Math.round(os.freemem() / 1048576),
    memTotalMB: Math.round(os.totalmem() / 1048576),
    rssMB: Math.round(process.memoryUsage.rss() / 1048576),
  };
  try {
    const st = fs.statfsSync(stateDir);
    out.diskFreeMB = Math.round((st.bavail * st.bsize) / 1048576);
  } catch {
    // state dir not there yet: no figure rather than a wrong one
  }
  const temp = cpuTemperature(sysRoot);
  if (temp !== undefined) out.cpuTempC = temp;
  return out;
}

/** CPU temperature from the first thermal zone (millidegrees in sysfs), if any. */
export function cpuTemperature(sysRoot = '/sys'): number | undefined {
  try {
    const raw = fs.readFileSync(path.join(sysRoot, 'class/thermal/thermal_zone0/temp'), 'utf8');
    const milli = Number(raw.trim());
    return Number.isFinite(milli) ? Math.round(milli / 100) / 10 : undefined;
  } catch {
    return undefined;
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
