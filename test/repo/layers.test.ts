/**
 * Dependencies point down (docs/architecture.md, Layers). LAYERS below is the one declaration of
 * the order, bottom first; the architecture document shows it and is checked against it. A file
 * under sidecar/src may import its own folder and any lower layer: never a higher layer (upward)
 * nor another folder of its own layer (sideways), so that shared vocabulary sinks to domain/ and
 * each layer can be read, tested and changed with only what is below it in mind.
 *
 * Unit tests (*.test.ts) are left out: a test may wire several layers together. Imports outside
 * sidecar/src are test/repo/shipped.test.ts's concern.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseImports, readSources, resolveSpecifier } from '../support/imports.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = 'sidecar/src/';

/**
 * Bottom first. Each entry of a layer is a folder (ending in '/') or a file under sidecar/src.
 * Folders that need nothing of each other share a layer, so that neither can start to.
 * - domain: the vocabulary every layer shares (claims, peers and paths, groups, VIPs and container
 *   policies, keys, API refusals); the injected clock; the version;
 * - work: how steps are run (queue, executor, backoff), whatever the steps are, so the executors
 *   and the daemon share one of each;
 * - the edges that speak only that vocabulary: the wire format, the configuration, log
 *   throttling, the sockets, and the executors of actions (ip, arping, Docker, the notify hook);
 * - engine (the pure decisions over config and wire messages) and health (checks that run through
 *   the executors);
 * - metrics: series labelled by the vocabulary of everything below;
 * - daemon: the event loop that wires them; api and cli: its surfaces; main: the composition root.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['domain/', 'clock.ts', 'version.ts'],
  ['work/'],
  ['wire/', 'config/', 'logging/', 'transport/', 'resources/', 'store/'],
  ['engine/', 'health/'],
  ['metrics/'],
  ['daemon/'],
  ['api/'],
  ['cli/'],
  ['main.ts'],
];

interface Place {
  readonly unit: string;
  readonly layer: number;
}

function placeOf(file: string, layers: readonly (readonly string[])[]): Place | null {
  const rel = file.slice(SRC.length);
  for (const [layer, units] of layers.entries()) {
    for (const unit of units) if (unit.endsWith('/') ? rel.startsWith(unit) : rel === unit) return { unit, layer };
  }
  return null;
}

/** The order as the architecture document writes it. */
export function renderLayers(layers: readonly (readonly string[])[]): string {
  return layers.map((units) => units.map((u) => `\`${u}\``).join(', ')).join(' < ');
}

/** Every import under sidecar/src that breaks the order, each as `file:line: what (rule)`. */
export function layerProblems(files: ReadonlyMap<string, string>, layers: readonly (readonly string[])[]): string[] {
  const problems: string[] = [];
  const describe = (p: Place): string => `${p.unit} (layer ${p.layer})`;
  for (const [file, source] of files) {
    if (!file.startsWith(SRC) || file.endsWith('.test.ts')) continue;
    const from = placeOf(file, layers);
    if (from === null) {
      problems.push(`${file}: in no layer: add its folder to LAYERS in test/repo/layers.test.ts`);
      continue;
    }
    for (const { specifier, line } of parseImports(source)) {
      const target = resolveSpecifier(file, specifier);
      if (target === null || !target.startsWith(SRC)) continue;
      const to = placeOf(target, layers);
      if (to === null || to.unit === from.unit || to.layer < from.layer) continue;
      const rule = to.layer > from.layer ? 'upward: a layer imports only from layers below it' : 'sideways: folders of one layer do not import each other; move what they share down';
      problems.push(`${file}:${line}: ${describe(from)} imports ${target.slice(SRC.length)} from ${describe(to)}: ${rule}`);
    }
  }
  return problems;
}

test('every import under sidecar/src points down the layers', () => {
  const files = readSources(REPO, 'sidecar/src');
  assert.ok(files.size > 0, 'no sources under sidecar/src');
  assert.deepEqual(layerProblems(files, LAYERS), []);
});

test('docs/architecture.md states the layer order declared here', () => {
  const doc = fs.readFileSync(path.join(REPO, 'docs/architecture.md'), 'utf8');
  const order = renderLayers(LAYERS);
  assert.ok(doc.includes(order), `docs/architecture.md (Layers) is out of date; it should say:\n\n${order}\n`);
});

test('the check finds what it is meant to find', () => {
  const layers = [['domain/'], ['wire/', 'config/'], ['engine/'], ['main.ts']];
  const files = new Map([
    ['sidecar/src/domain/claims.ts', "import type { Message } from '../wire/types.js';"],
    ['sidecar/src/wire/types.ts', ['/**', " * import { x } from '../engine/engine.js';", ' */', "import type { Claim } from '../domain/claims.js';", "import { parse } from './codec.js';", 'import {', '  Config,', "} from '../config/types.js';"].join('\n')],
    ['sidecar/src/engine/engine.ts', "import type { Config } from '../config/types.js';\nexport type { Claim } from '../domain/claims.js';\nconst m = await import('../main.js');"],
    ['sidecar/src/engine/engine.test.ts', "import { main } from '../main.js';"],
    ['sidecar/src/metrics/index.ts', "import { Claim } from '../domain/claims.js';"],
    ['sidecar/src/main.ts', "import { createEngine } from './engine/engine.js';\nimport 'zod';"],
  ]);
  assert.deepEqual(layerProblems(files, layers), [
    'sidecar/src/domain/claims.ts:1: domain/ (layer 0) imports wire/types.ts from wire/ (layer 1): upward: a layer imports only from layers below it',
    'sidecar/src/wire/types.ts:8: wire/ (layer 1) imports config/types.ts from config/ (layer 1): sideways: folders of one layer do not import each other; move what they share down',
    'sidecar/src/engine/engine.ts:3: engine/ (layer 2) imports main.ts from main.ts (layer 3): upward: a layer imports only from layers below it',
    'sidecar/src/metrics/index.ts: in no layer: add its folder to LAYERS in test/repo/layers.test.ts',
  ]);
  assert.equal(renderLayers(layers), '`domain/` < `wire/`, `config/` < `engine/` < `main.ts`');
});
