/**
 * `npm run bench -- commands [--real N]`: a flood of 20 000 cloud commands of
 * every kind (see command-flood.ts) from an outside MQTT client through a real
 * Mosquitto into a real daemon process. Prints JSON: event-loop lag measured
 * from outside (the 50 ms sensor timer's lateness) and inside (how late the
 * daemon's own timers fire, fieldgate status), RSS before/after, results per real id, what the
 * handler counted.
 */
import { parseArgs } from 'node:util';
import { commandFlood } from './command-flood';

const { values } = parseArgs({ options: { real: { type: 'string', default: '200' } } });
commandFlood({ real: Number(values.real) })
  .then((r) => {
    const { realFinals, ...rest } = r;
    console.log(JSON.stringify({ ...rest, realFinalsAllOne: realFinals.every((n) => n === 1) }, null, 2));
    process.exit(0);
  })
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
