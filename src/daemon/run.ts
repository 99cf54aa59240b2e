import type { CliIO } from '../cli/command';
import type { LogLevel } from '../core/logger';

export interface RunOptions {
  configFile: string;
  rulesDir?: string;
  stateDir?: string;
  socketPath?: string;
  logLevel?: LogLevel;
}

export async function runDaemon(_opts: RunOptions, io: CliIO): Promise<number> {
  io.err('fieldgate run: daemon wiring in progress\n');
  return 1;
}
