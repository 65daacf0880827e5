/**
 * The import statements of TypeScript sources, for the repository tests that guard how the code
 * is cut (test/repo/shipped.test.ts, test/repo/layers.test.ts). TypeScript 7 has no stable
 * JavaScript API to parse with, so this reads the statement forms the code uses: static imports
 * and re-exports that begin a line (single or multi-line clause, `type` or not), side-effect
 * imports, and `import('…')` anywhere (dynamic imports and `typeof import('…')` in types). A
 * statement inside a block comment starts with `*` and is not read; one inside a template string
 * would be, which errs on the side of reporting.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface ImportRef {
  /** The module specifier as written: './x.js', '../../test/support/y.js', 'zod', 'node:fs'. */
  readonly specifier: string;
  /** 1-based line of the specifier. */
  readonly line: number;
}

const NAME = String.raw`[\w$]+`;
const CLAUSE = String.raw`(?:type\s+)?(?:${NAME}\s*,?\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+${NAME})?)?`;
const STATIC = new RegExp(String.raw`^[ \t]*(?:import|export)\s+${CLAUSE}\s*from\s*(['"])([^'"\n]+)\1`, 'gm');
const SIDE_EFFECT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

function lineAt(source: string, index: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < index; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/** Every module a source imports or re-exports, in source order. */
export function parseImports(source: string): ImportRef[] {
  const found: { specifier: string; index: number }[] = [];
  for (const pattern of [STATIC, SIDE_EFFECT, DYNAMIC]) {
    for (const m of source.matchAll(pattern)) {
      const specifier = m[2] as string;
      found.push({ specifier, index: (m.index ?? 0) + m[0].lastIndexOf(specifier) });
    }
  }
  return found.sort((a, b) => a.index - b.index).map(({ specifier, index }) => ({ specifier, line: lineAt(source, index) }));
}

/**
 * The repository-relative .ts file a relative specifier names (ESM imports name the emitted
 * `.js`), or null for a package or `node:` module.
 */
export function resolveSpecifier(fromFile: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), specifier)).replace(/\.js$/, '.ts');
}

/** The package a bare specifier names: 'pino' → 'pino', '@types/node/x' → '@types/node'. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Every .ts file under `dir` (repository-relative, '/'-separated), sorted, with its text. */
export function readSources(repo: string, dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(repo, rel), { withFileTypes: true })) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.ts')) files.set(child, fs.readFileSync(path.join(repo, child), 'utf8'));
    }
  };
  walk(dir);
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}
