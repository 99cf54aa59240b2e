import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/**
 * A YAML file parsed with source positions, so any problem found later (schema,
 * cross-references, rule expressions) can be reported as FILE:LINE:COL.
 */
export interface Problem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

export type ConfigPath = readonly (string | number)[];

export class YamlSource {
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** YAML syntax errors (and duplicate keys), positioned. */
  syntaxProblems(): Problem[] {
    return this.doc.errors.map((e) => {
      const pos = this.lines.linePos(e.pos[0]);
      return { file: this.file, line: pos.line, col: pos.col, message: e.message.split('\n')[0] };
    });
  }

  /** Whether the document has a value at `path`. */
  has(path: ConfigPath): boolean {
    return this.doc.hasIn(path);
  }

  toJS(): unknown {
    return this.doc.toJS() ?? {};
  }

  /** Position of a value at `path`; for an unknown key, position of that key. Falls back to the nearest ancestor. */
  position(path: ConfigPath, key?: string): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let best: Node | null = (this.doc.contents as Node | null) ?? null;
    const full = key === undefined ? path : [...path, key];
    for (let i = 0; i < full.length; i++) {
      const seg = full[i];
      const isLast = i === full.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        // For an unknown key point at the key itself; otherwise at its value.
        if (isLast && key !== undefined) {
          best = pair.key as Node;
          break;
        }
        node = pair.value;
        best = (pair.value as Node | null) ?? (pair.key as Node);
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!item) break;
        node = item;
        best = item as Node;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, col: pos.col };
  }

  problem(path: ConfigPath, message: string, key?: string): Problem {
    const { line, col } = this.position(path, key);
    return { file: this.file, line, col, message };
  }
}
