import * as fs from 'node:fs';
import { driverKind } from '../../drivers';
import { stageKind } from '../pipeline/stages';
import { checkReferencedFiles } from './referenced-files';
import { configSchema, type GatewayConfig } from './schema';
import type { SensorDecl } from './sensor';
import { ConfigSource } from './config-source';
import type { Problem } from './yaml-source';
import { zodProblems } from './zod-problems';
import { valueProblem } from '../arbiter/validate';

export interface LoadedConfig {
  config: GatewayConfig;
  /** Every sensor of every driver, in declaration order. */
  sensors: SensorDecl[];
}

export type LoadResult = { ok: true; value: LoadedConfig } | { ok: false; problems: Problem[] };

/**
 * Read and validate a gateway config file, then check the files it names
 * (password, TLS) as the daemon will open them. No hardware is touched.
 */
export function loadConfigFile(file: string): LoadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(err);
    return { ok: false, problems: [{ file, line: 1, col: 1, message: `cannot read config: ${why}` }] };
  }
  const res = parseConfig(file, text);
  if (!res.ok) return res;
  // Positions are worked out from the text only when there is a problem to report.
  const files = checkReferencedFiles(res.value.config, new ConfigSource(file, text));
  return files.length > 0 ? { ok: false, problems: sortProblems(files) } : res;
}

/** Validate config text: YAML syntax, schema (unknown keys are errors), then cross-references. */
export function parseConfig(file: string, text: string): LoadResult {
  const src = new ConfigSource(file, text);
  const read = src.read();
  if (!read.ok) return read;
  const parsed = configSchema.safeParse(read.value);
  if (!parsed.success) return { ok: false, problems: sortProblems(zodProblems(src, parsed.error)) };
  const config = parsed.data;
  const problems: Problem[] = [];
  const sensors = collectSensors(config, src, problems);
  checkActuators(config, src, problems);
  checkStageReferences(sensors, src, problems);
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  // Not the source: whoever keeps the loaded config (the daemon, for its lifetime) must not keep the file's text.
  return { ok: true, value: { config, sensors } };
}

function collectSensors(config: GatewayConfig, src: ConfigSource, problems: Problem[]): SensorDecl[] {
  const sensors: SensorDecl[] = [];
  const sensorAt = new Map<string, (string | number)[]>();
  const driverIds = new Map<string, number>();
  config.drivers.forEach((d, i) => {
    if (driverIds.has(d.id)) {
      problems.push(src.problem(['drivers', i, 'id'], `duplicate driver id "${d.id}" (first used by drivers.${driverIds.get(d.id)})`));
    } else driverIds.set(d.id, i);
    for (const s of driverKind(d.kind).sensors(d)) {
      const path = ['drivers', i, ...s.path];
      const first = sensorAt.get(s.id);
      if (first) {
        problems.push(src.problem([...path, 'id'], `duplicate sensor id "${s.id}" (first declared at line ${src.position([...first, 'id']).line})`));
        continue;
      }
      // A position costs a second read of the file: taken only when there is a duplicate to report.
      sensorAt.set(s.id, path);
      sensors.push({ ...s, path });
    }
  });
  return sensors;
}

function checkActuators(config: GatewayConfig, src: ConfigSource, problems: Problem[]): void {
  const seen = new Set<string>();
  config.actuators.forEach((a, i) => {
    if (seen.has(a.id)) problems.push(src.problem(['actuators', i, 'id'], `duplicate actuator id "${a.id}"`));
    seen.add(a.id);
    const driver = config.drivers.find((d) => d.id === a.driver);
    if (!driver) {
      const ids = config.drivers.map((d) => d.id).join(', ') || 'none configured';
      problems.push(src.problem(['actuators', i, 'driver'], `unknown driver "${a.driver}" (drivers: ${ids})`));
      return;
    }
    const kind = driverKind(driver.kind);
    if (!kind.targetSchema) {
      problems.push(src.problem(['actuators', i, 'driver'], `driver "${a.driver}" (kind ${driver.kind}) cannot drive actuators`));
      return;
    }
    const t = kind.targetSchema.safeParse(a.target);
    if (!t.success) problems.push(...zodProblems(src, t.error, ['actuators', i, 'target']));
    if (a.type === 'number' && a.min !== undefined && a.max !== undefined && a.min > a.max) {
      problems.push(src.problem(['actuators', i, 'min'], `min (${a.min}) is greater than max (${a.max})`));
      return;
    }
    // A failsafe the arbiter would refuse is no failsafe: it must pass the same check as any write.
    for (const key of ['failsafe', 'initial'] as const) {
      const bad = a[key] === undefined ? undefined : valueProblem(a, a[key]);
      if (bad) problems.push(src.problem(['actuators', i, key], `actuators.${i}.${key}: ${bad}`));
    }
  });
}

function checkStageReferences(sensors: SensorDecl[], src: ConfigSource, problems: Problem[]): void {
  const ids = new Set(sensors.map((s) => s.id));
  for (const s of sensors) {
    s.pipeline.forEach((stage, j) => {
      const refs = stageKind(stage.kind).references?.(stage) ?? [];
      for (const ref of refs) {
        if (!ids.has(ref)) problems.push(src.problem([...s.path, 'pipeline', j], `stage ${stage.kind} of "${s.id}" refers to unknown sensor "${ref}"`));
        else if (ref === s.id) problems.push(src.problem([...s.path, 'pipeline', j], `stage ${stage.kind} of "${s.id}" refers to itself`));
      }
    });
  }
}

function sortProblems(ps: Problem[]): Problem[] {
  return ps.sort((a, b) => a.line - b.line || a.col - b.col);
}
