// A stand-in daemon for the sd_notify test: READY=1, watchdog pings from the event
// loop, and on "hang" from stdin a busy loop that blocks the event loop for good.
import { systemClock } from '../../src/core/clock';
import { createLogger } from '../../src/core/logger';
import { createNotifier } from '../../src/daemon/sd-notify';

const notifier = createNotifier({ env: process.env, clock: systemClock, log: createLogger({ write: (l) => process.stderr.write(l) }) });
notifier.ready('child started');
notifier.startWatchdog();
process.stdout.write(`started ${notifier.transport}\n`);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (!d.includes('hang')) return;
  process.stdout.write('hanging\n');
  for (;;) {
    // deliberately block the event loop: no timer can fire any more
  }
});
