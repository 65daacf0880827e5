/**
 * The repository stands alone: a clone on another machine has every file its code, tests and
 * docs refer to. A tracked text file fails here, at file:line, when it points outside the
 * repository: at a sibling folder or this build machine's paths, at design notes and issues kept
 * elsewhere (cite docs/ instead), at a scratch path in a committed report, or through a relative
 * path that climbs above the repository root.
 *
 * The patterns are assembled from pieces so that this file does not match them itself.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECTION = '\u00a7';

interface Rule {
  readonly why: string;
  readonly pattern: RegExp;
  /** Only files under these folders (default: every file). */
  readonly only?: readonly string[];
}

const RULES: readonly Rule[] = [
  { why: 'a sibling folder of the repository', pattern: new RegExp(`\\.\\./${'shared'}\\b`) },
  { why: "a path on this project's build machine", pattern: new RegExp(`(?<![\\w.-])/${'work'}/`) },
  { why: "root's home directory", pattern: new RegExp(`(?<![\\w.-])/${'root'}/`) },
  { why: 'a design note outside the repository: cite docs/architecture.md by section name', pattern: new RegExp(`${'DESIGN'} ?${SECTION}`) },
  { why: 'an issue section outside the repository: cite docs/ by section name', pattern: new RegExp(`\\b${'issue'} \\d+ ?${SECTION}`, 'i') },
  { why: "a scratch path in a committed report (it exists only on the machine that ran it)", pattern: new RegExp(`(?<![\\w.-])/${'tmp'}/`), only: ['test/bench/results/'] },
];

/**
 * A relative path made of `..` segments, as a path argument or a link: `'../..'`,
 * `'../../examples/x'`, `](../lab.md)`. Not `...`, `1..5` or `a/../b` (relative to something
 * other than the file).
 */
const CLIMB = /(?<![\w.\/$])\.\.(?:\/\.\.)*(?=\/|['"`)\]]|$)/g;

function trackedFiles(): string[] | null {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 }).split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/** Text, as far as git would show a diff: no NUL byte in the first 8000. */
function readText(file: string): string | null {
  const bytes = fs.readFileSync(path.join(REPO, file));
  return bytes.subarray(0, 8000).includes(0) ? null : bytes.toString('utf8');
}

export function findOutsideReferences(file: string, text: string): string[] {
  const found: string[] = [];
  const depth = path.posix.dirname(file) === '.' ? 0 : path.posix.dirname(file).split('/').length;
  text.split('\n').forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    for (const rule of RULES) {
      if (rule.only !== undefined && !rule.only.some((dir) => file.startsWith(dir))) continue;
      if (rule.pattern.test(line)) found.push(`${where}: ${rule.why}: ${line.trim().slice(0, 160)}`);
    }
    for (const m of line.matchAll(CLIMB)) {
      const climbs = m[0].split('/').length;
      if (climbs > depth) found.push(`${where}: "${m[0]}" climbs ${climbs} folders from ${path.posix.dirname(file)}/, above the repository root: ${line.trim().slice(0, 160)}`);
    }
  });
  return found;
}

test('no tracked file refers to a path outside the repository', (t) => {
  const files = trackedFiles();
  if (files === null) {
    if (process.env.CI === 'true') assert.fail('git ls-files failed: CI must run in a git checkout');
    t.skip('not a git checkout');
    return;
  }
  assert.ok(files.length > 0, 'git ls-files listed nothing');
  const found: string[] = [];
  for (const file of files) {
    if (!fs.existsSync(path.join(REPO, file))) continue; // deleted in the work tree, not yet committed
    const text = readText(file);
    if (text !== null) found.push(...findOutsideReferences(file, text));
  }
  assert.equal(found.length, 0, `references outside the repository:\n${found.join('\n')}`);
});

test('the check finds what it is meant to find', () => {
  const up = ['..', '..', '..'].join('/');
  assert.equal(findOutsideReferences('a/b.ts', `import x from '${up}/x.js';`).length, 1, 'climbing above the root');
  assert.deepEqual(findOutsideReferences('a/b/c.ts', `const root = path.resolve(HERE, '../..'); // [x](../../docs/x.md) 1..5 ... a/../b`), []);
  assert.equal(findOutsideReferences('README.md', `see [the lab](${['..', 'shared'].join('/')}/LAB.md)`).length, 2, 'sibling folder, and a climb from the root');
  assert.equal(findOutsideReferences('x.ts', `// ${'DESIGN'} ${SECTION}4`).length, 1);
  assert.equal(findOutsideReferences('x.ts', `// (${'Issue'} 5 ${SECTION}2)`).length, 1);
  assert.equal(findOutsideReferences('x.ts', `cat /${'work'}/shared/x`).length, 1);
  assert.equal(findOutsideReferences('test/bench/results/r.md', `see /${'tmp'}/hbs-1/logs/a.log`).length, 1);
  assert.deepEqual(findOutsideReferences('test/e2e/x.ts', `echo ok > /${'tmp'}/index.html`), [], 'scratch paths are fine outside reports');
});
