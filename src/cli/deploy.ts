import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MAX_DEPLOY_PAYLOAD_BYTES, MAX_LABEL, parseBundle, sha256Hex, signedMessage } from '../deploy/bundle';
import { MAX_RULE_FILE_BYTES } from '../rules/load';
import { EXIT, parseCommandArgs, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';
import { loadConfigFile } from '../config/load';
import { silentLogger } from '../core/logger';
import { daemonPaths, DEFAULT_PATHS } from '../daemon/run';
import { DeployStore } from '../deploy/store';
import { formatTime, table } from './format';
import { controlRequest } from '../control/client';
import { DEFAULT_SOCKET_PATH } from '../control/protocol';

const usage = `Usage:
  fieldgate deploy sign --key KEY.pem --version N [--label TEXT] [--id ID] [--confirm manual|auto]
                        [--confirm-window 2m] RULEFILE...
      print a signed deploy bundle (the JSON to publish on <prefix>/<gw>/req/deploy) holding
      RULEFILE... as the gateway's whole rule set. KEY.pem is an Ed25519 private key
      (openssl genpkey -algorithm ed25519 -out KEY.pem); the gateway must pin its public half
      (openssl pkey -in KEY.pem -pubout) in deploy.keysDir. N must be above the version the
      gateway runs. --id defaults to deploy-N. --confirm: confirmed by req/deploy.confirm (manual,
      the default) or by the gateway once online and not failed (auto); not confirmed within
      --confirm-window (default: the gateway's deploy.confirmWindow) it rolls back by itself.
  fieldgate deploy message BUNDLE.json
      print the bytes a bundle's signature covers (to sign or check it with openssl)

Exit status: 0 done, 1 a file cannot be read or the bundle is invalid or too large, 2 wrong usage.`;

export const deployCommand: CommandModule = {
  summary: 'sign a rule-set bundle for a remote deploy (req/deploy)',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    try {
      return runDeploy(argv, io);
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(`fieldgate deploy: ${(err as Error).message}\n`);
      return EXIT.FAIL;
    }
  },
};

function runDeploy(argv: string[], io: CliIO): number {
  const [sub, ...rest] = argv;
  if (sub === 'message') {
    if (rest.length !== 1) throw new UsageError('deploy message takes exactly one BUNDLE.json');
    const body = JSON.parse(readBounded(rest[0], MAX_DEPLOY_PAYLOAD_BYTES)) as Record<string, unknown>;
    const { id: _id, signature: _sig, ...params } = body;
    io.out(signedMessage(parseBundle(params)).toString('utf8'));
    return EXIT.OK;
  }
  if (sub !== 'sign') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand');
  const { values, positionals } = parseCommandArgs(rest, { key: { type: 'string' }, version: { type: 'string' }, label: { type: 'string' }, id: { type: 'string' }, confirm: { type: 'string' }, 'confirm-window': { type: 'string' } });
  if (!values.key) throw new UsageError('--key KEY.pem is required');
  const version = Number(values.version);
  if (!values.version || !Number.isSafeInteger(version) || version < 1) throw new UsageError('--version must be a positive integer');
  const label = values.label ?? '';
  if (label.length > MAX_LABEL) throw new UsageError(`--label is at most ${MAX_LABEL} characters`);
  if (positionals.length === 0) throw new UsageError('name at least one rule file');
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(readBounded(values.key, 16 * 1024));
  } catch (err) {
    io.err(`${values.key}: not a private key: ${(err as Error).message}\n`);
    return EXIT.FAIL;
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    io.err(`${values.key}: a ${key.asymmetricKeyType ?? 'unknown'} key; deploy bundles are signed with Ed25519\n`);
    return EXIT.FAIL;
  }
  const rules = positionals.map((file) => {
    const text = readBounded(file, MAX_RULE_FILE_BYTES);
    return { name: path.basename(file), text, sha256: sha256Hex(text) };
  });
  const unsigned = { version, label, rules };
  const confirm = { ...(values.confirm ? { confirm: values.confirm } : {}), ...(values['confirm-window'] ? { confirmWindow: values['confirm-window'] } : {}) };
  parseBundle({ ...unsigned, ...confirm }); // the gateway's own checks (names, duplicates, confirm), before signing
  const signature = crypto.sign(null, signedMessage(unsigned), key).toString('base64');
  const json = JSON.stringify({ id: values.id ?? `deploy-${version}`, ...unsigned, ...confirm, signature });
  if (Buffer.byteLength(json) > MAX_DEPLOY_PAYLOAD_BYTES) {
    io.err(`the bundle is ${Buffer.byteLength(json)} bytes; a deploy request takes at most ${MAX_DEPLOY_PAYLOAD_BYTES}\n`);
    return EXIT.FAIL;
  }
  io.out(json + '\n');
  return EXIT.OK;
}

/** A file's text, refused before it is read when it is larger than `max`. */
function readBounded(file: string, max: number): string {
  const size = fs.statSync(file).size;
  if (size > max) throw new Error(`${file} is ${size} bytes; at most ${max} are read`);
  return fs.readFileSync(file, 'utf8');
}

export const CONFIG_VERSIONS_USAGE = `  fieldgate config versions [--state DIR] [--config FILE] [--json]
                                the deployed rule-set versions kept in the state directory (newest
                                first), which one runs and whether it waits for its confirmation
  fieldgate config rollback [VERSION] [--socket PATH]
                                through the running daemon: undo the deploy waiting for its
                                confirmation now, else put kept rule-set VERSION back (default: the
                                one before the running one)`;

/** `fieldgate config rollback [VERSION]`: asks the running daemon (it owns the rules directory and the versions). */
export async function configRollback(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { socket: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length > 1) throw new UsageError('config rollback takes at most one VERSION');
  const version = positionals[0] === undefined ? undefined : Number(positionals[0]);
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) throw new UsageError('VERSION must be a positive integer (fieldgate config versions lists them)');
  const socketPath = values.socket ?? io.env.FIELDGATE_SOCKET ?? DEFAULT_SOCKET_PATH;
  let res: { version: number; to: number | string | null };
  try {
    res = (await controlRequest(socketPath, 'deploy.rollback', version === undefined ? {} : { version })) as typeof res;
  } catch (err) {
    io.err(`fieldgate config rollback: ${(err as Error).message}\n`);
    return EXIT.FAIL;
  }
  if (values.json) io.out(JSON.stringify(res) + '\n');
  else io.out(`rolled back: version ${res.version} → ${res.to === null ? 'the local files that ran before' : typeof res.to === 'number' ? `version ${res.to}` : res.to}\n`);
  return EXIT.OK;
}

/** `fieldgate config versions`: read from the state directory; works without the daemon. */
export function configVersions(argv: string[], io: CliIO): number {
  const { values, positionals } = parseCommandArgs(argv, { state: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  let stateDir = values.state ?? io.env.FIELDGATE_STATE;
  if (!stateDir) {
    const configFile = values.config ?? io.env.FIELDGATE_CONFIG ?? DEFAULT_PATHS.config;
    const res = loadConfigFile(configFile);
    stateDir = res.ok ? daemonPaths({ configFile }, res.value.config).stateDir : DEFAULT_PATHS.state;
  }
  const store = new DeployStore(stateDir, Number.MAX_SAFE_INTEGER, silentLogger);
  const current = store.current();
  const pending = store.pending();
  const rows = store.versions().map((n) => {
    const v = store.version(n);
    const state =
      current?.version !== n ? 'kept' : pending?.version === n ? `running, waiting for confirmation until ${formatTime(pending.confirmBy)}` : 'running';
    return { version: n, label: v?.label ?? '', key: v?.key ?? '', appliedAt: v?.appliedAt, files: v?.files.map((f) => f.name) ?? [], state };
  });
  if (values.json) {
    io.out(JSON.stringify({ stateDir, running: current?.version ?? null, versions: rows }, null, 2) + '\n');
    return EXIT.OK;
  }
  if (rows.length === 0) {
    io.out(`no deployed versions in ${store.dir}; the rules that run are local files\n`);
    return EXIT.OK;
  }
  io.out(table(['VERSION', 'LABEL', 'KEY', 'APPLIED', 'FILES', 'STATE'], rows.map((r) => [String(r.version), r.label, r.key, formatTime(r.appliedAt), r.files.join(' '), r.state]), { align: ['right'] }));
  if (!current) io.out('none of them runs: the rules that run are local files (a rollback put them back)\n');
  return EXIT.OK;
}
