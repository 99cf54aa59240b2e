import { parseConfig } from '../config/load';
import { formatProblem } from '../config/yaml-source';

/** A deployed config text checked like `fieldgate config check FILE` (positions in FILE), without writing it. */
export function checkConfigText(file: string, text: string): { ok: true; gatewayId: string } | { ok: false; problems: string[] } {
  const res = parseConfig(file, text);
  return res.ok ? { ok: true, gatewayId: res.value.config.gateway.id } : { ok: false, problems: res.problems.map(formatProblem) };
}
