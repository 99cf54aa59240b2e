// The part of js-yaml 4 that src/config/config-source.ts uses (the package ships no types).
declare module 'js-yaml' {
  export interface Schema {
    readonly __schema: unique symbol;
  }
  /** YAML 1.2 core schema: null, bool, int, float; every other scalar is a string. */
  export const CORE_SCHEMA: Schema;
  /** The parser state as a listener sees it; `position` is a UTF-16 offset into the input. */
  export interface State {
    position: number;
    kind: 'scalar' | 'sequence' | 'mapping' | null;
    result: unknown;
  }
  export interface LoadOptions {
    filename?: string;
    schema?: Schema;
    json?: boolean;
    maxDepth?: number;
    /** Called when composing a node starts ('open') and when its value is built ('close'). */
    listener?: (event: 'open' | 'close', state: State) => void;
  }
  export function load(text: string, options?: LoadOptions): unknown;
  export class YAMLException extends Error {
    reason: string;
    /** line and column are 0-based. */
    mark?: { line: number; column: number; position: number };
  }
}
