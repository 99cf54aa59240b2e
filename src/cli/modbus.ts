import { parseArgs } from 'node:util';
import { decodeRegisters, encodeValue, wordCount } from '../../drivers/modbus/codec';
import { classifyError } from '../../drivers/modbus/errors';
import { busSchema, DATA_TYPES, WORD_ORDERS, type BusConfig, type DataType, type RegisterKind, type WordOrder } from '../../drivers/modbus/schema';
import type { ModbusTransport } from '../../drivers/modbus/transport';
import { parseDuration } from '../core/duration';
import { EXIT, UsageError, wantsHelp, type CliIO, type CommandModule } from './command';

const usage = `Usage:
  fieldgate modbus scan  LINK [--units 1-247] [--timeout 200ms] [--json]
  fieldgate modbus read  LINK --unit U (--holding|--input|--coil|--discrete) ADDR [--count N]
                         [--type uint16] [--order ABCD] [--json]
  fieldgate modbus write LINK --unit U (--coil|--holding) ADDR VALUE... [--type uint16] [--order ABCD] [--yes]

LINK is --port PATH --baud B [--parity none|even|odd] [--data-bits 8] [--stop-bits 1]
     or --tcp HOST[:PORT]
Addresses are zero-based protocol addresses (holding register 40001 is 0). --count counts
values of --type (a float32 is 2 registers). Types: ${DATA_TYPES.join(', ')}; orders: ${WORD_ORDERS.join(', ')}.
Works without the daemon; refuses if the daemon holds the serial port. Prefer stable
/dev/serial/by-id/... paths. write asks for confirmation unless --yes.`;

const options = {
  port: { type: 'string' },
  baud: { type: 'string' },
  parity: { type: 'string' },
  'data-bits': { type: 'string' },
  'stop-bits': { type: 'string' },
  tcp: { type: 'string' },
  unit: { type: 'string' },
  units: { type: 'string' },
  holding: { type: 'string' },
  input: { type: 'string' },
  coil: { type: 'string' },
  discrete: { type: 'string' },
  count: { type: 'string' },
  type: { type: 'string' },
  order: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const PORT_IN_USE = 'port in use — the fieldgate daemon probably owns it: stop it with systemctl stop fieldgate';

function int(flag: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${flag} must be an integer ${min}-${max}`);
  return n;
}

function linkOf(f: Flags): BusConfig {
  if (f.tcp !== undefined) {
    const [host, port] = f.tcp.split(':');
    return busSchema.parse({ type: 'tcp', host, port: port ? int('tcp port', port, 1, 65535) : undefined });
  }
  if (f.port === undefined) throw new UsageError('give --port PATH --baud B, or --tcp HOST:PORT');
  const res = busSchema.safeParse({
    type: 'serial',
    path: f.port,
    baudRate: int('baud', f.baud, 1, 4_000_000),
    parity: f.parity,
    dataBits: f['data-bits'] === undefined ? undefined : Number(f['data-bits']),
    stopBits: f['stop-bits'] === undefined ? undefined : Number(f['stop-bits']),
  });
  if (!res.success) throw new UsageError(res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return res.data;
}

function tableOf(f: Flags, allowed: readonly RegisterKind[]): { table: RegisterKind; address: number } {
  const given = allowed.filter((k) => f[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of ${allowed.map((k) => `--${k}`).join(', ')} with an address`);
  return { table: given[0], address: int(given[0], f[given[0]], 0, 65535) };
}

function shapeOf(f: Flags, table: RegisterKind): { type: DataType; order: WordOrder } {
  if (table === 'coil' || table === 'discrete') return { type: 'bool', order: 'ABCD' };
  const type = (f.type ?? 'uint16') as DataType;
  const order = (f.order ?? 'ABCD').toUpperCase() as WordOrder;
  if (!DATA_TYPES.includes(type) || type === 'bool') throw new UsageError(`--type must be one of ${DATA_TYPES.filter((t) => t !== 'bool').join(', ')}`);
  if (!WORD_ORDERS.includes(order)) throw new UsageError(`--order must be one of ${WORD_ORDERS.join(', ')}`);
  return { type, order };
}

/** "1-10,20,30-32" → [1..10, 20, 30, 31, 32]. */
function parseUnits(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',')) {
    const [a, b] = part.split('-').map((x) => int('units', x, 0, 255));
    for (let u = a; u <= (b ?? a); u++) out.push(u);
  }
  return out;
}

async function withLink(f: Flags, io: CliIO, fn: (t: ModbusTransport, timeoutMs: number) => Promise<number>): Promise<number> {
  const link = linkOf(f);
  const timeoutMs = f.timeout === undefined ? 1000 : parseDuration(f.timeout);
  if (timeoutMs === undefined) throw new UsageError('--timeout must be a duration such as 200ms');
  // serialport and modbus-serial load only when a modbus command runs, not with every CLI command.
  const { ModbusSerialTransport } = await import('../../drivers/modbus/transport.js');
  const transport = new ModbusSerialTransport(link, timeoutMs);
  try {
    await transport.open();
  } catch (err) {
    const e = classifyError(err);
    io.err(`fieldgate modbus: ${transport.description}: ${e.kind === 'busy' ? PORT_IN_USE : e.message}\n`);
    return EXIT.FAIL;
  }
  try {
    return await fn(transport, timeoutMs);
  } finally {
    await transport.close();
  }
}

async function scan(f: Flags, io: CliIO): Promise<number> {
  const units = parseUnits(f.units ?? (f.tcp ? '0-247' : '1-247'));
  return withLink({ ...f, timeout: f.timeout ?? '200ms' }, io, async (t, timeout) => {
    const found: { unit: number; answer: string }[] = [];
    for (const unit of units) {
      try {
        const [v] = await t.read(unit, 'holding', 0, 1, timeout);
        found.push({ unit, answer: `holding 0 = ${v}` });
      } catch (err) {
        const e = classifyError(err);
        if (e.kind === 'exception') found.push({ unit, answer: e.message });
        else if (e.kind === 'port' || e.kind === 'busy') throw e;
        else await t.flush();
      }
    }
    if (f.json) io.out(JSON.stringify({ link: t.description, scanned: units.length, responding: found }) + '\n');
    else {
      io.out(`${t.description}: ${found.length} of ${units.length} unit id(s) responding\n`);
      for (const x of found) io.out(`  unit ${x.unit}: ${x.answer}\n`);
    }
    return EXIT.OK;
  });
}

async function read(f: Flags, io: CliIO): Promise<number> {
  const unit = int('unit', f.unit, 0, 255);
  const { table, address } = tableOf(f, ['holding', 'input', 'coil', 'discrete']);
  const shape = shapeOf(f, table);
  const count = f.count === undefined ? 1 : int('count', f.count, 1, 2000);
  const words = table === 'coil' || table === 'discrete' ? 1 : wordCount({ ...shape, length: 1 });
  return withLink(f, io, async (t, timeout) => {
    let data: number[];
    try {
      data = await t.read(unit, table, address, count * words, timeout);
    } catch (err) {
      io.err(`fieldgate modbus: unit ${unit} ${table} ${address}: ${classifyError(err).message}\n`);
      return EXIT.FAIL;
    }
    const values = Array.from({ length: count }, (_, i) => {
      const raw = data.slice(i * words, (i + 1) * words);
      return { address: address + i * words, value: decodeRegisters(raw, { ...shape, length: words }), raw };
    });
    if (f.json) io.out(JSON.stringify({ unit, register: table, ...shape, values }) + '\n');
    else {
      for (const v of values) {
        const hex = table === 'coil' || table === 'discrete' ? '' : `  [${v.raw.map((w) => '0x' + w.toString(16).padStart(4, '0')).join(' ')}]`;
        io.out(`unit ${unit} ${table} ${v.address}${shape.type === 'bool' ? '' : ` ${shape.type} ${shape.order}`}: ${v.value}${hex}\n`);
      }
    }
    return EXIT.OK;
  });
}

async function write(f: Flags, values: string[], io: CliIO): Promise<number> {
  const unit = int('unit', f.unit, 0, 255);
  const { table, address } = tableOf(f, ['coil', 'holding']);
  const shape = shapeOf(f, table);
  if (values.length === 0) throw new UsageError('write needs at least one VALUE');
  const nums = values.map((v) => (/^(true|on)$/i.test(v) ? 1 : /^(false|off)$/i.test(v) ? 0 : Number(v)));
  if (nums.some((n) => !Number.isFinite(n))) throw new UsageError(`not a number: ${values.join(' ')}`);
  let words: number[];
  try {
    words = table === 'coil' ? nums.map((n) => (n ? 1 : 0)) : nums.flatMap((n) => encodeValue(n, shape));
  } catch (err) {
    throw new UsageError(classifyError(err).message);
  }
  const what = `${values.join(' ')}${table === 'coil' ? '' : ` (${shape.type} ${shape.order})`} to unit ${unit} ${table} ${address}`;
  return withLink(f, io, async (t, timeout) => {
    if (!f.yes && !(await io.confirm(`Write ${what} on ${t.description}?`))) {
      io.err('fieldgate modbus: not written (confirm, or pass --yes)\n');
      return EXIT.FAIL;
    }
    try {
      await t.write(unit, table as 'coil' | 'holding', address, words, { timeoutMs: timeout, multiple: false });
    } catch (err) {
      io.err(`fieldgate modbus: write failed: ${classifyError(err).message}\n`);
      return EXIT.FAIL;
    }
    io.out(f.json ? JSON.stringify({ unit, register: table, address, words, written: true }) + '\n' : `wrote ${what}\n`);
    return EXIT.OK;
  });
}

export const modbusCommand: CommandModule = {
  summary: 'scan, read and write Modbus devices directly (RTU or TCP), without the daemon',
  usage,
  async run(argv, io) {
    if (wantsHelp(argv)) {
      io.out(usage + '\n');
      return EXIT.OK;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError(classifyError(err).message);
    }
    const [sub, ...rest] = parsed.positionals;
    const f = parsed.values;
    if (sub === 'scan') return scan(f, io);
    if (sub === 'read') return read(f, io);
    if (sub === 'write') return write(f, rest, io);
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (scan, read or write)');
  },
};
