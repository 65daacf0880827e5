/**
 * Every configuration the documentation shows loads without a problem, as `check-config` would
 * judge it: the ```yaml blocks of README.md and compose/README.md (a block without `nodes` is a
 * fragment, checked on top of a minimal config), the native files under compose/, and every
 * Heartbeat directory (ha.cf, authkeys, haresources) under compose/ and examples/.
 *
 * The files are copied to a scratch directory first: secret files the examples point at
 * (/run/secrets/..., /etc/heartbeat-sidecar/...) are made there with mode 600, as an operator
 * would make them, and git does not keep authkeys' mode.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadConfig, type LoadResult } from '../../sidecar/src/config/load.js';
import { formatProblems } from '../../sidecar/src/config/format.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'hbs-examples-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));
const MINIMAL = {
  nodes: ['alpha', 'beta'],
  paths: [{ ucast: { iface: 'eth0', peers: ['10.77.0.11', '10.77.0.12'] } }],
  auth: { send_key: 1, keys: [{ id: 1, method: 'sha256', secret: 'an example secret of some length' }] },
};

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(REPO, dir), { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && keep(full)) out.push(path.relative(REPO, full));
  }
  return out.sort();
}

function yamlBlocks(doc: string): Array<{ line: number; text: string }> {
  const blocks: Array<{ line: number; text: string }> = [];
  const lines = fs.readFileSync(path.join(REPO, doc), 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```yaml') continue;
    const end = lines.indexOf('```', i + 1);
    assert.ok(end > i, `${doc}:${i + 1}: unclosed yaml block`);
    blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Points every secret_file and token_file at a scratch file of mode 600, made on first use. */
function withScratchSecrets(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const made = (original: string): string => {
    const file = path.join(dir, path.basename(original));
    fs.writeFileSync(file, 'a5f3c0de9b7e41d2a8c6f0e4b2d19783\n', { mode: 0o600 });
    return file;
  };
  const auth = config.auth as { keys?: Array<Record<string, unknown>> } | undefined;
  for (const key of auth?.keys ?? []) if (typeof key.secret_file === 'string') key.secret_file = made(key.secret_file);
  const api = config.api as Record<string, unknown> | undefined;
  if (typeof api?.token_file === 'string') api.token_file = made(api.token_file);
  return config;
}

async function checkNative(name: string, config: Record<string, unknown>): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(SCRATCH, 'native-'));
  const file = path.join(dir, 'heartbeat-sidecar.yaml');
  fs.writeFileSync(file, stringify(withScratchSecrets(config, dir)));
  const first = (config.nodes as Array<string | { name: string }>)[0]!;
  const node = typeof first === 'string' ? first : first.name;
  const result = await loadConfig({ configPath: file, env: { HB_NODE: node }, hostname: 'examples', interfaces: null });
  assert.ok(result.ok, `${name} is refused:\n${result.ok ? '' : formatProblems([...result.problems])}`);
  return result;
}

for (const doc of ['README.md', 'compose/README.md']) {
  test(`every yaml block of ${doc} passes check-config`, async () => {
    const blocks = yamlBlocks(doc);
    assert.ok(blocks.length > 0, `${doc} shows no yaml block`);
    for (const block of blocks) {
      const shown = parse(block.text) as Record<string, unknown>;
      const config = 'nodes' in shown ? shown : { ...MINIMAL, ...shown };
      await checkNative(`${doc}:${block.line}`, structuredClone(config));
    }
  });
}

test('every native config file under compose/ passes check-config, with the keys it shows', async () => {
  const files = filesUnder('compose', (f) => /heartbeat-sidecar\.ya?ml$/.test(f));
  assert.ok(files.length > 0, 'no native config under compose/');
  for (const file of files) {
    const result = await checkNative(file, parse(fs.readFileSync(path.join(REPO, file), 'utf8')) as Record<string, unknown>);
    if (!result.ok) continue;
    // what the file writes is what the daemon runs with, not a default standing in for it
    const written = parse(fs.readFileSync(path.join(REPO, file), 'utf8')) as { groups?: Array<{ container?: { project?: string } }> };
    result.config.groups.forEach((g, i) => {
      const project = written.groups?.[i]?.container?.project;
      if (project !== undefined) assert.equal(g.container?.project, project, `${file}: groups[${i}].container.project`);
    });
  }
});

test('every Heartbeat directory under compose/ and examples/ passes check-config', async () => {
  const dirs = [...filesUnder('compose', (f) => f.endsWith('/ha.cf')), ...(fs.existsSync(path.join(REPO, 'examples')) ? filesUnder('examples', (f) => f.endsWith('/ha.cf')) : [])].map(path.dirname);
  assert.ok(dirs.length > 0, 'no Heartbeat example found');
  for (const dir of dirs) {
    const copy = fs.mkdtempSync(path.join(SCRATCH, 'ha-'));
    for (const name of ['ha.cf', 'authkeys', 'haresources']) fs.copyFileSync(path.join(REPO, dir, name), path.join(copy, name));
    fs.chmodSync(path.join(copy, 'authkeys'), 0o600);
    const node = /^node\s+(\S+)/m.exec(fs.readFileSync(path.join(copy, 'ha.cf'), 'utf8'))?.[1];
    assert.ok(node !== undefined, `${dir}/ha.cf names no node`);
    const result = await loadConfig({ haDir: copy, env: { HB_NODE: node }, hostname: 'examples', interfaces: null });
    assert.ok(result.ok, `${dir} is refused:\n${result.ok ? '' : formatProblems([...result.problems])}`);
  }
});
