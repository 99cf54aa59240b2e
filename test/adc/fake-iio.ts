import * as fs from 'node:fs';
import * as path from 'node:path';

/** Create <root>/bus/iio/devices/iio:deviceN with a name and attribute files, like the kernel does. */
export function fakeIioDevice(root: string, n: number, name: string, files: Record<string, string>): string {
  const dir = path.join(root, 'bus', 'iio', 'devices', `iio:device${n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'name'), `${name}\n`);
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), `${v}\n`);
  return dir;
}
