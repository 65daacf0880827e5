/**
 * The image ships the daemon and nothing written for tests. The Dockerfile's build stage compiles
 * sidecar/src and deletes the compiled *.test.js, so every other file under sidecar/src ships: it
 * must not import test code (test/, a *.test.ts), the test runner or a dev dependency (the image
 * prunes them, so the import would fail at run time), and it must be reachable from main.ts, the
 * image's entry point. A file that only tests reach is test support (it belongs in test/support/)
 * or dead code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { packageOf, parseImports, readSources, resolveSpecifier } from '../support/imports.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = 'sidecar/src/';
const ENTRY = 'sidecar/src/main.ts';
const read = (file: string): string => fs.readFileSync(path.join(REPO, file), 'utf8');

const isTest = (file: string): boolean => file.endsWith('.test.ts');
const isShipped = (file: string): boolean => file.startsWith(SRC) && !isTest(file);

/**
 * Every way the shipped files break the rule above, each as `file:line: what`. `files` maps
 * repository-relative paths to their text and must hold all of sidecar/src; `devPackages` are the
 * packages the image does not have.
 */
export function shippedProblems(files: ReadonlyMap<string, string>, devPackages: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const edges = new Map<string, string[]>();
  for (const [file, source] of files) {
    if (!isShipped(file)) continue;
    const targets: string[] = [];
    for (const { specifier, line } of parseImports(source)) {
      const where = `${file}:${line}`;
      const target = resolveSpecifier(file, specifier);
      if (target === null) {
        const pkg = packageOf(specifier);
        if (pkg === 'node:test') problems.push(`${where}: imports the test runner (${specifier}) into the image`);
        else if (devPackages.has(pkg)) problems.push(`${where}: imports ${pkg}, a dev dependency the image prunes`);
      } else if (!target.startsWith(SRC)) {
        problems.push(`${where}: imports ${target}, outside sidecar/src (test code stays out of the image)`);
      } else if (isTest(target)) {
        problems.push(`${where}: imports the test ${target}`);
      } else {
        targets.push(target);
      }
    }
    edges.set(file, targets);
  }
  const reached = new Set<string>();
  const visit = (file: string): void => {
    if (reached.has(file)) return;
    reached.add(file);
    for (const next of edges.get(file) ?? []) visit(next);
  };
  visit(ENTRY);
  for (const file of edges.keys()) {
    if (!reached.has(file)) problems.push(`${file}: ships in the image but main.ts never reaches it: test support belongs in test/support/, dead code goes`);
  }
  return problems;
}

function devPackages(): Set<string> {
  const pkg = JSON.parse(read('package.json')) as { devDependencies?: Record<string, string> };
  return new Set(Object.keys(pkg.devDependencies ?? {}));
}

test('what the image ships is what the Dockerfile says: sidecar/src minus its tests', () => {
  const dockerfile = read('Dockerfile');
  const build = dockerfile.slice(0, dockerfile.indexOf('\nFROM ', dockerfile.indexOf(' AS build')));
  assert.match(build, /^COPY sidecar \.\/sidecar$/m, 'the build stage copies sidecar/');
  assert.match(build, /npx tsc -p tsconfig\.build\.json/, 'the build stage compiles tsconfig.build.json');
  assert.match(read('.dockerignore'), /^!sidecar\/src\/\*\*$/m, 'the build context admits sidecar/src');
  assert.match(read('.dockerignore'), /^!tsconfig\.build\.json$/m, 'the build context admits tsconfig.build.json');
  const tsconfig = JSON.parse(read('tsconfig.build.json')) as { extends: string; include: string[]; exclude: string[] };
  assert.equal(tsconfig.extends, './tsconfig.json');
  assert.deepEqual(tsconfig.include, ['sidecar/src/**/*.ts'], 'tsc compiles sidecar/src only');
  assert.deepEqual(tsconfig.exclude, ['sidecar/src/**/*.test.ts'], 'and none of its unit tests, which import test/support/');
});

test('no shipped file imports test code, and every one is reachable from main.ts', () => {
  const files = readSources(REPO, 'sidecar/src');
  assert.ok(files.has(ENTRY), `${ENTRY} is missing`);
  assert.deepEqual(shippedProblems(files, devPackages()), []);
});

test('the check finds what it is meant to find', () => {
  const dev = new Set(['fast-check']);
  // Assembled, so that standalone.test.ts does not read it as a path above the repository root.
  const up = ['..', '..', '..'].join('/');
  const files = new Map([
    [ENTRY, "import { run } from './daemon/run.js';\nimport './daemon/side.js';\n"],
    ['sidecar/src/daemon/run.ts', ["import type { Clock } from '../clock.js';", 'import {', '  FakeTime,', `} from '${up}/test/support/fake-time.js';`, "export { helper } from './helper.test.js';", "const fc = await import('fast-check');", "import { test } from 'node:test';", "import pino from 'pino';"].join('\n')],
    ['sidecar/src/daemon/side.ts', ''],
    ['sidecar/src/clock.ts', ''],
    ['sidecar/src/daemon/helper.test.ts', `import { FakeTime } from '${up}/test/support/fake-time.js';`],
    ['sidecar/src/testing/fixture.ts', "export const x = 1;"],
    ['test/support/fake-time.ts', "import type { Clock } from '../../sidecar/src/clock.js';"],
  ]);
  assert.deepEqual(shippedProblems(files, dev), [
    'sidecar/src/daemon/run.ts:4: imports test/support/fake-time.ts, outside sidecar/src (test code stays out of the image)',
    'sidecar/src/daemon/run.ts:5: imports the test sidecar/src/daemon/helper.test.ts',
    'sidecar/src/daemon/run.ts:6: imports fast-check, a dev dependency the image prunes',
    "sidecar/src/daemon/run.ts:7: imports the test runner (node:test) into the image",
    'sidecar/src/testing/fixture.ts: ships in the image but main.ts never reaches it: test support belongs in test/support/, dead code goes',
  ]);
});
