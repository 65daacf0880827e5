/**
 * Reads the native YAML form. Every value keeps its position in the parsed document, so a schema
 * problem at `groups[1].vips[0]` is reported at the line that wrote it.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, ErrorCode, Node } from 'yaml';
import type { ConfigProblem, Where } from './problem.js';
import { readSource } from './source.js';
import type { SourceDocument } from './source.js';

export async function readNativeFile(file: string): Promise<SourceDocument> {
  const read = await readSource(file, { secret: false });
  if (read.text === null) return { kind: 'yaml', files: [file], doc: null, locate: (path) => ({ file, line: null, key: keyLabel(path) }), problems: read.problems, warnings: [] };
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
  const yaml = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  const locate = (path: readonly PropertyKey[]): Where => ({ file, line: lineOfPath(yaml, path, lineOf), key: keyLabel(path) });
  const fromYaml = (e: { code: ErrorCode; message: string; pos: [number, number] }, rule: 'yaml-syntax' | 'yaml-warning'): ConfigProblem => ({
    file,
    line: lineOf(e.pos[0]),
    key: null,
    rule,
    message: e.message.split('\n')[0]!,
    fix: SYNTAX_FIXES[e.code] ?? 'correct the YAML here',
  });
  const problems: ConfigProblem[] = yaml.errors.map((e) => fromYaml(e, 'yaml-syntax'));
  const warnings = yaml.warnings.map((w) => fromYaml(w, 'yaml-warning'));
  const result = (doc: Record<string, unknown> | null, more: readonly ConfigProblem[] = []): SourceDocument => ({ kind: 'yaml', files: [file], doc, locate, problems: [...problems, ...more], warnings });
  // A document with syntax errors is only partly built; judging its values would mislead.
  if (problems.length > 0) return result(null);
  let value: unknown;
  try {
    value = yaml.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return result(null, [{ file, line: null, key: null, rule: 'yaml-syntax', message: (err as Error).message, fix: 'use fewer aliases' }]);
  }
  if (value === null || value === undefined) return result({});
  if (typeof value !== 'object' || Array.isArray(value)) {
    return result(null, [{ file, line: 1, key: null, rule: 'wrong-type', message: 'the file must be a mapping of keys (node:, nodes:, paths: ...)', fix: 'start from the example in the README' }]);
  }
  return result(value as Record<string, unknown>);
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
