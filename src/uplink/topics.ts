/**
 * The uplink's topic layout under <topicPrefix>/<gatewayId>/:
 *   status   retained "online" (birth) / "offline" (LWT and clean stop)
 *   health   heartbeat JSON, QoS 0, not retained
 *   data     batches of readings (see batch-format.ts)
 *   events   events and alarms (the outbox stores the absolute topic)
 *   state/<actuator>       retained actuator state: value, who holds it, since, last write
 *   alarms                 retained list of the active alarms
 *   cmd/<actuator>         commands from the cloud (subscribed as cmd/+)
 *   cmd/<actuator>/result  our answers (never matched by cmd/+)
 *   req/<name>             requests from the cloud: health, logs, trace, ping, alarm.ack (subscribed as req/+)
 *   req/<name>/result      our answers
 */
export interface UplinkTopics {
  base: string;
  status: string;
  health: string;
  data: string;
  events: string;
  alarms: string;
  state(actuator: string): string;
  /** Subscription filter for commands: exactly one level below cmd/. */
  commandFilter: string;
  command(actuator: string): string;
  commandResult(actuator: string): string;
  /** The actuator a command topic addresses, or undefined for any other topic. */
  actuatorOf(topic: string): string | undefined;
  requestFilter: string;
  requestResult(name: string): string;
  /** The request name of a request topic, or undefined. */
  requestOf(topic: string): string | undefined;
}

export function uplinkTopics(prefix: string, gatewayId: string): UplinkTopics {
  const base = `${prefix}/${gatewayId}`;
  const cmd = `${base}/cmd/`;
  const req = `${base}/req/`;
  return {
    base,
    status: `${base}/status`,
    health: `${base}/health`,
    data: `${base}/data`,
    events: `${base}/events`,
    alarms: `${base}/alarms`,
    state: (actuator) => `${base}/state/${actuator}`,
    commandFilter: `${cmd}+`,
    command: (actuator) => cmd + actuator,
    commandResult: (actuator) => `${cmd}${actuator}/result`,
    actuatorOf: (topic) => oneLevelBelow(cmd, topic),
    requestFilter: `${req}+`,
    requestResult: (name) => `${req}${name}/result`,
    requestOf: (topic) => oneLevelBelow(req, topic),
  };
}

function oneLevelBelow(prefix: string, topic: string): string | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  return rest.length > 0 && !rest.includes('/') ? rest : undefined;
}
