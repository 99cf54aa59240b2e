import { CORE_SCHEMA, load, YAMLException, type State } from 'js-yaml';
import { YamlSource, type ConfigPath, type Problem } from './yaml-source';

/** Bounds checked before any parse or walk that grows with them. */
export const CONFIG_LIMITS = {
  /** Largest config file; 10 000 sensors with 4-stage pipelines take about 3 MB. */
  bytes: 32 * 1024 * 1024,
  /** Most values after YAML aliases are expanded (an alias "bomb" is tiny on disk). */
  values: 2_000_000,
  /** Deepest nesting of maps and lists. */
  depth: 64,
} as const;

interface Index {
  root: unknown;
  /** Source range [from, to) of every map and list, by value. */
  ranges: Map<object, [number, number]>;
  lineStarts: number[];
}

export type ReadResult = { ok: true; value: unknown } | { ok: false; problems: Problem[] };

/**
 * The gateway config file, read for its values by js-yaml and positioned only
 * when a problem needs a FILE:LINE:COL.
 *
 * Why not YamlSource (the `yaml` library's Document with every node's range):
 * for 10 000 sensors that Document takes about 3 s and 80 MB of heap, more than
 * the unit's 64 MB heap. js-yaml builds the plain values in a tenth of the time
 * and memory. A position is found on the error path only: a second read records
 * the source range of every map and list; the innermost one on the problem's
 * path is cut out of the text (its own child maps and lists replaced by `~`,
 * lines and columns kept) and positioned by YamlSource exactly as before. A
 * valid config therefore costs one js-yaml read, and the values it returns
 * keep no reference to the text.
 */
export class ConfigSource {
  private index?: Index;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {}

  /** The file's values (YAML 1.2 core schema), or its first syntax error, positioned. */
  read(): ReadResult {
    if (this.text.length > CONFIG_LIMITS.bytes) {
      return this.fail(1, 1, `config is ${this.text.length} bytes; at most ${CONFIG_LIMITS.bytes} are read (split it or remove unused sensors)`);
    }
    let value: unknown;
    try {
      value = load(this.text, { filename: this.file, schema: CORE_SCHEMA, maxDepth: CONFIG_LIMITS.depth });
    } catch (err) {
      if (!(err instanceof YAMLException)) throw err;
      const mark = err.mark ?? { line: 0, column: 0 };
      return this.fail(mark.line + 1, mark.column + 1, err.reason);
    }
    if (detachValues(value, CONFIG_LIMITS.values) > CONFIG_LIMITS.values) {
      return this.fail(1, 1, `config expands to more than ${CONFIG_LIMITS.values} values (YAML aliases repeated inside each other?)`);
    }
    return { ok: true, value: value ?? {} };
  }

  /** Whether the file has a value at `path`. */
  has(path: ConfigPath): boolean {
    let node = this.indexed().root;
    for (const seg of path) {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, seg)) return false;
      node = (node as Record<string | number, unknown>)[seg];
    }
    return true;
  }

  /** Position of a value at `path`; for an unknown key, position of that key. Falls back to the nearest ancestor. */
  position(path: ConfigPath, key?: string): { line: number; col: number } {
    const { root, ranges, lineStarts } = this.indexed();
    let node = root;
    let range = (typeof root === 'object' && root !== null && ranges.get(root)) || ([0, this.text.length] as [number, number]);
    let depth = 0;
    for (const seg of path) {
      if (typeof node !== 'object' || node === null || !Object.hasOwn(node, seg)) break;
      const child = (node as Record<string | number, unknown>)[seg];
      const r = typeof child === 'object' && child !== null ? ranges.get(child) : undefined;
      if (!r) break;
      node = child;
      range = r;
      depth++;
    }
    const [start, end] = range;
    const lineNo = lineIndex(lineStarts, start);
    const lineStart = lineStarts[lineNo];
    const children = typeof node === 'object' && node !== null ? Object.values(node) : [];
    const fragment = ' '.repeat(start - lineStart) + this.cut(start, end, children, ranges);
    const at = new YamlSource(this.file, fragment).position(path.slice(depth), key);
    return { line: at.line + lineNo, col: at.col };
  }

  problem(path: ConfigPath, message: string, key?: string): Problem {
    const { line, col } = this.position(path, key);
    return { file: this.file, line, col, message };
  }

  private fail(line: number, col: number, message: string): ReadResult {
    return { ok: false, problems: [{ file: this.file, line, col, message }] };
  }

  private indexed(): Index {
    if (this.index) return this.index;
    const ranges = new Map<object, [number, number]>();
    const opened: number[] = [];
    // js-yaml drops a leading byte-order mark before it counts offsets.
    const bom = this.text.charCodeAt(0) === 0xfeff ? 1 : 0;
    const listener = (event: 'open' | 'close', state: State) => {
      if (event === 'open') {
        opened.push(state.position + bom);
        return;
      }
      const from = opened.pop() ?? 0;
      // The innermost node closes first; an alias closes with the anchored value, which keeps its own range.
      if (typeof state.result === 'object' && state.result !== null && !ranges.has(state.result)) ranges.set(state.result, [from, state.position + bom]);
    };
    let root: unknown = null;
    try {
      root = load(this.text, { filename: this.file, schema: CORE_SCHEMA, maxDepth: CONFIG_LIMITS.depth, listener });
    } catch {
      // Only called for a file read() accepted; positions then fall back to 1:1.
    }
    const lineStarts = [0];
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    this.index = { root, ranges, lineStarts };
    return this.index;
  }

  /** text[start, end) with each child map or list inside it replaced by `~`, keeping every line break and the columns after it. */
  private cut(start: number, end: number, children: unknown[], ranges: Map<object, [number, number]>): string {
    const inner = children
      .map((c) => (typeof c === 'object' && c !== null ? ranges.get(c) : undefined))
      .filter((r): r is [number, number] => r !== undefined && r[0] >= start && r[1] <= end)
      .sort((a, b) => a[0] - b[0]);
    let out = '';
    let at = start;
    for (const [from, to] of inner) {
      if (from < at) continue; // the same value twice (an alias)
      const content = skipBlank(this.text, from, to);
      out += this.text.slice(at, content);
      if (content < to) out += '~' + blankOut(this.text.slice(content + 1, to));
      at = to;
    }
    return out + this.text.slice(at, end);
  }
}

/**
 * Counts the values in `v` with aliases expanded, no further than just past
 * `limit`, and replaces each string by a copy of its own. js-yaml returns
 * strings of 13 characters or more as V8 slices of the whole file's text: one
 * broker URL or long sensor id kept by the daemon would keep the entire file
 * (3 MB for 10 000 sensors) in memory for as long as it runs.
 */
function detachValues(v: unknown, limit: number): number {
  let n = 1;
  const stack: unknown[] = [v];
  while (stack.length > 0 && n <= limit) {
    const x = stack.pop();
    if (typeof x !== 'object' || x === null) continue;
    const o = x as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      n++;
      const c = o[k];
      if (typeof c === 'string') {
        // A JSON round trip copies exactly, lone surrogates included.
        if (c.length >= 13) o[k] = JSON.parse(JSON.stringify(c)) as string;
      } else if (typeof c === 'object' && c !== null) stack.push(c);
    }
  }
  return n;
}

/** 0-based line of `offset`, given the offset at which each line starts. */
function lineIndex(lineStarts: number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** First offset in [from, to) that is neither white space nor inside a comment. */
function skipBlank(text: string, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
    else if (ch === '#') while (i < to && text[i] !== '\n') i++;
    else break;
  }
  return i;
}

/** Lines emptied, line breaks kept; the last (partial) line becomes spaces, so what follows keeps its column. */
function blankOut(s: string): string {
  const last = s.lastIndexOf('\n');
  if (last === -1) return ' '.repeat(s.length);
  return s.slice(0, last + 1).replace(/[^\r\n]+/g, '') + ' '.repeat(s.length - last - 1);
}
