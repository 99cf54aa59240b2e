import type { AlarmView } from '../daemon/view';
import { controlRequest } from '../control/client';
import { EXIT, UsageError } from './command';
import { COMMON_OPTIONS_USAGE, daemonCommand, printJson } from './daemon-views';
import { formatTime, table } from './format';

const usage = `Usage: fieldgate alarms [--json] [--socket PATH]
       fieldgate alarms ack ALARM_ID [--by NAME] [--json] [--socket PATH]

The active alarms of the running daemon (raised by rules, oldest first): id,
rule, severity, since when, acknowledged by whom. An alarm stays active until
its rule clears it (or the rule is removed); acknowledging it says someone has
seen it. The same list is retained on <prefix>/<gateway>/alarms.

  --by NAME   who acknowledges (default $USER, else "local")
${COMMON_OPTIONS_USAGE}

Exit status: alarms: 0 none active, 1 some active; ack: 0 acknowledged, 1 no such active alarm.`;

export function renderAlarms(alarms: AlarmView[]): string {
  if (alarms.length === 0) return 'no active alarms\n';
  return table(
    ['ID', 'RULE', 'SEVERITY', 'SINCE', 'ACKNOWLEDGED', 'MESSAGE'],
    alarms.map((a) => [a.id, a.source, a.severity, formatTime(a.raisedAt), a.acknowledged ? `${a.acknowledged.by} ${formatTime(a.acknowledged.at)}` : '-', a.message]),
  );
}

export const alarmsCommand = daemonCommand({
  name: 'alarms',
  summary: 'active alarms (raised by rules); `alarms ack ID` acknowledges one',
  usage,
  options: { by: { type: 'string' } },
  arity: { min: 0, max: 2, message: 'usage: fieldgate alarms [ack ALARM_ID]' },
  async run(args, io) {
    const [sub, id] = args.positionals;
    if (sub === undefined) {
      const alarms = (await controlRequest(args.socketPath, 'alarms')) as AlarmView[];
      if (args.json) printJson(io, alarms);
      else io.out(renderAlarms(alarms));
      return alarms.length === 0 ? EXIT.OK : EXIT.FAIL;
    }
    if (sub !== 'ack' || !id) throw new UsageError('usage: fieldgate alarms ack ALARM_ID');
    const by = (args.values.by as string | undefined) ?? io.env.USER ?? 'local';
    const res = (await controlRequest(args.socketPath, 'ack', { alarm: id, by })) as { ok: boolean; error?: string; alarm?: AlarmView };
    if (args.json) printJson(io, res);
    else io.out(res.ok ? `${id}: acknowledged by ${res.alarm?.acknowledged?.by ?? by}\n` : `${id}: ${res.error ?? 'refused'}\n`);
    return res.ok ? EXIT.OK : EXIT.FAIL;
  },
});
