import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The Zigbee network key: 16 random bytes, kept as 32 hex digits in a file of
 * mode 0600 in the driver's state directory, created on first start. It is
 * never logged (the logger also redacts any `networkKey` field). Losing the file
 * means every device must be re-paired, so it is never overwritten.
 */
export interface NetworkKeyResult {
  key: number[];
  created: boolean;
  /** Set when the file is readable by group/others (a warning to show, not a failure). */
  warning?: string;
}

export function loadOrCreateNetworkKey(file: string): NetworkKeyResult {
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const hex = crypto.randomBytes(16).toString('hex');
    try {
      fs.writeFileSync(file, hex + '\n', { mode: 0o600, flag: 'wx' });
      created = true;
    } catch (err) {
      // Another process created it between existsSync and here: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const text = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-fA-F]{32}$/.test(text)) {
    throw new Error(`network key file ${file} must hold exactly 32 hex digits (16 bytes); fix or remove it (removing it forces re-pairing every device)`);
  }
  const mode = fs.statSync(file).mode & 0o777;
  const warning = mode & 0o077 ? `network key file ${file} has mode 0${mode.toString(8)}; run chmod 600 on it` : undefined;
  return { key: [...Buffer.from(text, 'hex')], created, warning };
}
