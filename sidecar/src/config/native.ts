/**
 * Reads the native YAML form. Every value keeps its position in the parsed document, so a schema
 * problem at `groups[1].vips[0]` is reported at the line that wrote it.
 */
import { LineCounter, isAlias, isCollection, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, ErrorCode, Node, Pair } from 'yaml';
import { escapeControls, problemAt, quote } from './problem.js';
import type { ConfigProblem, Where } from './problem.js';
import { knownKeys } from './schema.js';
import { readSource } from './source.js';
import type { SourceDocument } from './source.js';

export async function readNativeFile(file: string): Promise<SourceDocument> {
  const read = await readSource(file, { secret: false });
  if (read.text === null) return { kind: 'yaml', files: [file], doc: null, locate: (path) => ({ file, line: null, key: keyLabel(path) }), derived: new Set(), problems: read.problems, warnings: [] };
  return translateYaml(file, read.text);
}

const SYNTAX_FIXES: Partial<Record<ErrorCode, string>> = {
  DUPLICATE_KEY: 'remove one of the two keys',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'check the indentation here',
};

/** Pure: YAML text to a source document. */
export function translateYaml(file: string, text: string): SourceDocument {
  const lineCounter = new LineCounter();
  // logLevel 'error': the library would print its warnings to stderr, outside the problem list;
  // what it finds is read from yaml.errors and yaml.warnings instead.
  const yaml = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const locate = (path: readonly PropertyKey[]): Where => ({ file, line: lineOfPath(yaml, path, lineOf), key: keyLabel(path) });
  const fromYaml = (e: { code: ErrorCode; message: string; pos: [number, number] }, rule: 'yaml-syntax' | 'yaml-warning'): ConfigProblem => ({
    file,
    line: lineOf(e.pos[0]),
    key: null,
    rule,
    message: escapeControls(e.message.split('\n')[0]!),
    fix: SYNTAX_FIXES[e.code] ?? 'correct the YAML here',
  });
  const problems: ConfigProblem[] = yaml.errors.map((e) => fromYaml(e, 'yaml-syntax'));
  const warnings = yaml.warnings.map((w) => fromYaml(w, 'yaml-warning'));
  const result = (doc: Record<string, unknown> | null, more: readonly ConfigProblem[] = []): SourceDocument => ({ kind: 'yaml', files: [file], doc, locate, derived: new Set(), problems: [...problems, ...more], warnings });
  // A document with syntax errors is only partly built; judging its values would mislead.
  if (problems.length > 0) return result(null);
  problems.push(...takeOutKeysThatAreNotNames(yaml, file, text, lineOf));
  let value: unknown;
  try {
    value = yaml.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return result(null, [{ file, line: null, key: null, rule: 'yaml-syntax', message: escapeControls((err as Error).message), fix: 'use fewer aliases' }]);
  }
  if (value === null || value === undefined) return result({});
  if (typeof value !== 'object' || Array.isArray(value)) {
    return result(null, [{ file, line: 1, key: null, rule: 'wrong-type', message: 'the file must be a mapping of keys (node:, nodes:, paths: ...)', fix: 'start from the example in the README' }]);
  }
  return result(value as Record<string, unknown>);
}

/**
 * YAML allows any value as a key: a list (`? [a, b]`), a mapping (`{a: 1}: x`), nothing
 * (`null: x`), or under YAML 1.1 a date. A configuration's keys are names, and converted to
 * JavaScript such a key would become a string nobody wrote ("[ a, b ]", "") with no line to
 * report it at, and the yaml library would warn about it on stderr. So each is reported here,
 * at its line, and taken out of the document before it is converted.
 */
function takeOutKeysThatAreNotNames(yaml: Document, file: string, text: string, lineOf: (offset: number) => number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const keyOf = (pair: Pair): unknown => (isAlias(pair.key) ? pair.key.resolve(yaml) : pair.key);
  const notAName = (pair: Pair, path: readonly PropertyKey[]): ConfigProblem | null => {
    const key = pair.key as Node | null;
    const resolved = keyOf(pair);
    const value = isScalar(resolved) ? resolved.value : undefined;
    const kind = isSeq(resolved) ? 'a list' : isCollection(resolved) ? 'a mapping' : resolved === null || resolved === undefined || value === null ? 'null' : value instanceof Date ? 'a date' : typeof value === 'object' ? 'binary data' : null;
    if (kind === null) return null;
    const range = key?.range ?? (pair.value as Node | null)?.range ?? null;
    const written = range === null ? '' : text.slice(range[0], range[1]).split('\n')[0]!.trim();
    const known = knownKeys(path);
    const where: Where = { file, line: range === null ? null : lineOf(range[0]), key: keyLabel([...path, written === '' ? '(empty key)' : written]) };
    const message = written === '' ? 'an entry has no key; a key must be a plain name' : `the key ${quote(written, 40)} is ${kind === 'null' ? 'null in YAML' : kind}; a key must be a plain name`;
    const fix = known.length > 0 ? `write one of the keys known here (${known.join(', ')}), or remove the entry` : 'write the key as a plain name, or remove the entry';
    return problemAt(where, 'unknown-key', message, fix);
  };
  // A stack rather than recursion: nesting is as deep as the file makes it.
  const stack: { node: unknown; path: readonly PropertyKey[] }[] = [{ node: yaml.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (!isCollection(node)) continue;
    const next: typeof stack = [];
    const kept = (node.items as unknown[]).filter((item, i) => {
      if (!isPair(item)) {
        next.push({ node: item, path: [...path, i] });
        return true;
      }
      const problem = notAName(item, path);
      if (problem !== null) problems.push(problem);
      else next.push({ node: item.value, path: [...path, isMap(node) ? String((keyOf(item) as { value?: unknown }).value) : i] });
      return problem === null;
    });
    // (In a YAML 1.1 !!pairs list, the items after a removed pair move up one place.)
    if (kept.length < node.items.length) (node as { items: unknown[] }).items = kept;
    // Pushed last first, so that they are visited in the order written.
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  return problems;
}

/** `groups[1].vips[0]`: how a YAML path is named in messages. */
export function keyLabel(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s === '' ? String(p) : `${s}.${String(p)}`), '');
}

/**
 * The line of the value at `path`: of its key when it sits in a mapping (a nested mapping starts
 * a line later). A missing value points at its parent, where it would be added, but not at the
 * whole document: a missing top-level key has no line.
 */
function lineOfPath(yaml: Document, path: readonly PropertyKey[], lineOf: (offset: number) => number): number | null {
  let node: unknown = yaml.contents;
  let start: number | null = null;
  for (const segment of path) {
    let next: { node: unknown; start: number | undefined } | null = null;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (pair !== undefined) next = { node: pair.value, start: (pair.key as Node).range?.[0] };
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      const item = node.items[segment];
      next = { node: item, start: (item as Node | null)?.range?.[0] };
    }
    if (next === null || next.start === undefined) return start;
    node = next.node;
    start = lineOf(next.start);
  }
  return start;
}
