/**
 * The etcd client (etcd3, its gRPC stack and cockatiel) costs about as much memory as the rest of
 * the daemon, so only election: etcd may load it: main.ts reaches it through a dynamic import
 * alone (docs/architecture.md, Memory). This follows the imports that load a module when main.ts
 * starts (value imports, not `import type`, not `import()`) and fails on any that reaches it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packageOf, readSources, resolveSpecifier } from '../support/imports.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAZY = new Set(['etcd3', 'cockatiel', '@grpc/grpc-js', '@grpc/proto-loader']);

/** Imports evaluated with the module: `import x from`, `import { a } from`, `export … from`, side effects. */
function loadingImports(source: string): string[] {
  const out: string[] = [];
  const statement = /^[ \t]*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"\n]+)['"]|^[ \t]*import\s*['"]([^'"\n]+)['"]/gm;
  for (const m of source.matchAll(statement)) {
    if (m[5] !== undefined) out.push(m[5]);
    else if (m[2] === undefined && !/^\{\s*(type\s+[\w$]+\s*,?\s*)+\}$/.test(m[3]!.trim())) out.push(m[4]!);
  }
  return out;
}

/** The sources main.ts loads at start, and the packages they load. */
export function loadedAtStart(files: ReadonlyMap<string, string>, entry: string): { files: Set<string>; packages: Map<string, string> } {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string): void => {
    if (seen.has(file) || !files.has(file)) return;
    seen.add(file);
    for (const specifier of loadingImports(files.get(file)!)) {
      const target = resolveSpecifier(file, specifier);
      if (target !== null) visit(target);
      else if (!specifier.startsWith('node:')) packages.set(packageOf(specifier), file);
    }
  };
  visit(entry);
  return { files: seen, packages };
}

test('the etcd client is loaded only by election: etcd, through a dynamic import', () => {
  const files = readSources(REPO, 'sidecar/src');
  const { files: loaded, packages } = loadedAtStart(files, 'sidecar/src/main.ts');
  assert.ok(loaded.has('sidecar/src/daemon/quorum.ts'), 'the walk lost its way: main.ts loads the quorum loop');
  assert.ok(!loaded.has('sidecar/src/store/etcd.ts'), 'store/etcd.ts is loaded at start: import it with import() where the election is etcd');
  assert.deepEqual([...packages].filter(([p]) => LAZY.has(p)), []);
  // and the adapter does reach the client, so this test watches something real
  assert.match(files.get('sidecar/src/store/etcd.ts')!, /import\('etcd3'\)/);
});

test('the walk tells loading imports from type-only and dynamic ones', () => {
  const files = new Map([
    ['sidecar/src/main.ts', "import type { A } from './a.js';\nimport { type B } from './b.js';\nimport { c } from './c.js';\nconst d = await import('./d.js');"],
    ['sidecar/src/a.ts', "import x from 'etcd3';"],
    ['sidecar/src/b.ts', "import x from 'etcd3';"],
    ['sidecar/src/c.ts', "export { y } from './e.js';"],
    ['sidecar/src/d.ts', "import x from 'etcd3';"],
    ['sidecar/src/e.ts', "import 'cockatiel';"],
  ]);
  const { files: loaded, packages } = loadedAtStart(files, 'sidecar/src/main.ts');
  assert.deepEqual([...loaded].sort(), ['sidecar/src/c.ts', 'sidecar/src/e.ts', 'sidecar/src/main.ts']);
  assert.deepEqual([...packages.keys()], ['cockatiel']);
});
