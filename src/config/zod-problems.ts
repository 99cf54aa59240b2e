import type { z } from 'zod';
import type { ConfigPath, Problem } from './yaml-source';

/** What zodProblems needs of a source file: YamlSource and ConfigSource both are one. */
export interface PositionedSource {
  problem(path: ConfigPath, message: string, key?: string): Problem;
  has(path: ConfigPath): boolean;
}

/** Turn zod issues into positioned problems with messages an engineer can act on. */
export function zodProblems(src: PositionedSource, error: z.ZodError, basePath: readonly (string | number)[] = []): Problem[] {
  const out: Problem[] = [];
  const walk = (issues: readonly z.core.$ZodIssue[], prefix: readonly (string | number)[]) => {
    for (const issue of issues) {
      const path = [...prefix, ...(issue.path as (string | number)[])];
      const where = path.length ? path.join('.') : '(top level)';
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          out.push(src.problem(path, `unknown key "${key}" in ${where}`, key));
        }
      } else if (issue.code === 'invalid_union' && issue.errors.length > 0 && 'discriminator' in issue === false) {
        // Report the branch that got furthest rather than "invalid input".
        const best = [...issue.errors].sort((a, b) => deepest(b) - deepest(a))[0];
        if (best.length > 0 && deepest(best) > 0) walk(best, path);
        else out.push(src.problem(path, `${where}: ${issue.message}`));
      } else if (path.length > 0 && !src.has(path) && src.has(path.slice(0, -1))) {
        const parent = path.length > 1 ? path.slice(0, -1).join('.') : '(top level)';
        out.push(src.problem(path, `${parent}: missing required key "${String(path[path.length - 1])}" (${issue.message})`));
      } else {
        out.push(src.problem(path, `${where}: ${issue.message}`));
      }
    }
  };
  walk(error.issues, basePath);
  return out;
}

function deepest(issues: readonly z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}
