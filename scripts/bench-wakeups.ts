/**
 * `npm run bench -- wakeups [--timers 10] [--seconds 30]`: what a wake-up of the
 * process costs by itself. Two Node processes, each with N timers that do nothing
 * every second: in one they fall due at N different moments of the second (as
 * intervals started at different times do), in the other in the same millisecond
 * (as timers on the second's grid do, see everyOnGrid). Both run at once, so the
 * machine is the same for both; CPU from each process's own process.cpuUsage over
 * the window, after 3 s. The difference divided by the extra wake-ups a second is
 * the CPU one wake-up costs: the price the daemon pays for every timer that does
 * not share its moment with another.
 */
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { timers: { type: 'string', default: '10' }, seconds: { type: 'string', default: '30' } } });
const timers = Math.max(2, Number(values.timers));
const seconds = Math.max(5, Number(values.seconds));

// The child: N one-second intervals, 97 ms apart or all at once; prints its CPU ms a second.
const child = `
const [spread, n, secs] = [process.argv[1] === 'spread', Number(process.argv[2]), Number(process.argv[3])];
for (let i = 0; i < n; i++) setTimeout(() => setInterval(() => {}, 1000), spread ? i * 97 : 0);
setTimeout(() => {
  const t0 = process.cpuUsage();
  setTimeout(() => {
    const t = process.cpuUsage(t0);
    process.stdout.write(JSON.stringify({ cpuMsPerS: (t.user + t.system) / 1000 / secs }));
    process.exit(0);
  }, secs * 1000);
}, 3050);`;

function run(mode: 'spread' | 'aligned'): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', child, mode, String(timers), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { cpuMsPerS: number }).cpuMsPerS) : reject(new Error(`${mode} child exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const [spread, aligned] = await Promise.all([run('spread'), run('aligned')]);
  const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
  console.log(
    JSON.stringify({
      bench: 'wakeups',
      timers,
      seconds,
      spread: { wakeupsPerS: timers, cpuMsPerS: round(spread) },
      aligned: { wakeupsPerS: 1, cpuMsPerS: round(aligned) },
      cpuMsPerWakeup: round((spread - aligned) / (timers - 1)),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
