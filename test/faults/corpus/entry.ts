/**
 * The corpus format, read and written in one place for generate.ts, corpus.test.ts and fuzz.ts.
 *
 * A wire entry is `wire/NAME.hex`: header lines `# field: value`, then the datagram as hex
 * (white space ignored, so long datagrams wrap). `expect` is a RejectReason, `ok`, or `crash`
 * for an input that made the decoder throw; `keys` is the ring to decode with, as authkeys
 * writes keys (`ID METHOD SECRET`, comma-separated; crc takes no secret).
 *
 * A config entry is `config/NAME/`: the Heartbeat files or `heartbeat-sidecar.yaml` as written
 * to disk, an optional `env.json` of HB_* variables, and `expect.json` (ConfigExpectation).
 */
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../sidecar/src/config/load.js';
import type { LoadResult } from '../../../sidecar/src/config/load.js';
import type { AuthKey, AuthMethod } from '../../../sidecar/src/domain/auth.js';
import { REJECT_REASONS } from '../../../sidecar/src/wire/types.js';
import type { RejectReason } from '../../../sidecar/src/wire/types.js';

export const CORPUS_DIR = fileURLToPath(new URL('.', import.meta.url));
export const WIRE_DIR = join(CORPUS_DIR, 'wire');
export const CONFIG_DIR = join(CORPUS_DIR, 'config');

/** `crash` marks an input that made the code throw: the corpus test fails until it is fixed. */
export type WireExpectation = RejectReason | 'ok' | 'crash';

export interface WireEntry {
  readonly about: string;
  readonly expect: WireExpectation;
  readonly keys: readonly AuthKey[];
  readonly bytes: Buffer;
}

const METHODS: readonly AuthMethod[] = ['sha256', 'sha1', 'md5', 'crc'];

/** The keys of the golden vectors in sidecar/src/wire/codec.test.ts. */
export const GOLDEN_KEYS = {
  sha256: { id: 1, method: 'sha256', secret: Buffer.from('golden-sha256-secret') },
  /** The seed recipe's authkeys: `auth 1` / `1 sha1 <secret>`; id 1 again, so it needs a ring of its own. */
  sha1: { id: 1, method: 'sha1', secret: Buffer.from('cookbook-secret') },
  md5: { id: 2, method: 'md5', secret: Buffer.from('golden-md5-secret') },
  crc: { id: 15, method: 'crc', secret: Buffer.alloc(0) },
} as const satisfies Record<string, AuthKey>;

/** The ring most wire entries are decoded with, and fuzz.ts signs arbitrary bodies with. */
export const RING: readonly AuthKey[] = [GOLDEN_KEYS.sha256, GOLDEN_KEYS.md5, GOLDEN_KEYS.crc];

export function formatKeys(keys: readonly AuthKey[]): string {
  return keys.map((k) => (k.method === 'crc' ? `${k.id} crc` : `${k.id} ${k.method} ${k.secret}`)).join(', ');
}

function parseKeys(text: string, file: string): AuthKey[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part) => {
    const [id, method, secret = '', ...extra] = part.trim().split(/\s+/);
    if (!/^\d+$/.test(id ?? '') || !METHODS.includes(method as AuthMethod) || extra.length > 0) throw new Error(`${file}: bad key ${JSON.stringify(part)}`);
    return { id: Number(id), method: method as AuthMethod, secret: Buffer.from(secret) };
  });
}

export function formatWireEntry(e: WireEntry): string {
  const hex = e.bytes.toString('hex').match(/.{1,64}/g) ?? [];
  return [`# expect: ${e.expect}`, `# keys: ${formatKeys(e.keys)}`, `# about: ${e.about.replace(/\n/g, ' ')}`, `# bytes: ${e.bytes.length}`, ...hex, ''].join('\n');
}

/** Throws on a file that is not a valid entry: a broken corpus must fail loudly, not shrink. */
export function parseWireEntry(text: string, file: string): WireEntry {
  const fields = new Map<string, string>();
  let hex = '';
  for (const line of text.split('\n')) {
    const header = /^#\s*([a-z]+):\s?(.*)$/.exec(line);
    if (header !== null) fields.set(header[1]!, header[2]!.trim());
    else if (!line.startsWith('#')) hex += line.replace(/\s+/g, '');
  }
  const expect = fields.get('expect');
  if (expect === undefined || !(expect === 'ok' || expect === 'crash' || REJECT_REASONS.includes(expect as RejectReason))) throw new Error(`${file}: "# expect:" must be ok, crash or one of ${REJECT_REASONS.join(', ')}`);
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new Error(`${file}: the datagram is not whole bytes of hex`);
  const bytes = Buffer.from(hex, 'hex');
  const length = fields.get('bytes');
  if (length !== undefined && Number(length) !== bytes.length) throw new Error(`${file}: "# bytes: ${length}" but the hex holds ${bytes.length}`);
  return { about: fields.get('about') ?? '', expect: expect as WireExpectation, keys: parseKeys(fields.get('keys') ?? '', file), bytes };
}

export function writeWireEntry(file: string, e: WireEntry): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, formatWireEntry(e));
}

export async function readWireEntries(): Promise<{ readonly name: string; readonly entry: WireEntry }[]> {
  const names = (await readdir(WIRE_DIR)).filter((n) => n.endsWith('.hex')).sort();
  return Promise.all(names.map(async (name) => ({ name, entry: parseWireEntry(await readFile(join(WIRE_DIR, name), 'utf8'), name) })));
}

export interface ConfigExpectation {
  /** What the entry tries, in a line. */
  readonly about: string;
  readonly ok: boolean | 'crash';
  /** Rules of the errors, in the order the loader reports them (reading order). */
  readonly codes?: readonly string[];
  /** Rules of the warnings, in order; checked when given. */
  readonly warnings?: readonly string[];
  /** Octal mode for authkeys, which git does not keep; 0600 when absent, as Heartbeat requires. */
  readonly authkeysMode?: string;
  /** Default cookbook, the recipe's primary. */
  readonly hostname?: string;
  /** This host's interfaces; default lo and eth0. null skips the check. */
  readonly interfaces?: readonly string[] | null;
}

export interface ConfigEntry {
  /** The configuration files, as bytes: a fuzzed file need not be UTF-8. */
  readonly files: Readonly<Record<string, Buffer>>;
  readonly env: Readonly<Record<string, string>>;
  readonly expect: ConfigExpectation;
}

export const YAML_FILE = 'heartbeat-sidecar.yaml';
const META_FILES = new Set(['expect.json', 'env.json']);

export async function readConfigEntries(): Promise<{ readonly name: string; readonly entry: ConfigEntry }[]> {
  const names = (await readdir(CONFIG_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return Promise.all(names.map(async (name) => ({ name, entry: await readConfigEntry(join(CONFIG_DIR, name)) })));
}

export async function readConfigEntry(dir: string): Promise<ConfigEntry> {
  const names = await readdir(dir);
  const files: Record<string, Buffer> = {};
  for (const n of names) if (!META_FILES.has(n)) files[n] = await readFile(join(dir, n));
  const env = names.includes('env.json') ? (JSON.parse(await readFile(join(dir, 'env.json'), 'utf8')) as Record<string, string>) : {};
  const expect = JSON.parse(await readFile(join(dir, 'expect.json'), 'utf8')) as ConfigExpectation;
  return { files, env, expect };
}

export function writeConfigEntry(dir: string, e: ConfigEntry): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(e.files)) writeFileSync(join(dir, name), bytes);
  if (Object.keys(e.env).length > 0) writeFileSync(join(dir, 'env.json'), `${JSON.stringify(e.env, null, 2)}\n`);
  writeFileSync(join(dir, 'expect.json'), `${JSON.stringify(e.expect, null, 2)}\n`);
}

/**
 * Writes the entry's files into a fresh directory under `root` and loads them as the daemon
 * would: the YAML file when there is one, else the directory as Heartbeat's.
 */
export async function loadConfigEntry(e: ConfigEntry, root: string): Promise<{ readonly dir: string; readonly result: LoadResult }> {
  const dir = await mkdtemp(join(root, 'entry-'));
  for (const [name, bytes] of Object.entries(e.files)) await writeFile(join(dir, name), bytes);
  // Set after writing, because the umask filters a creation mode; git keeps no mode at all.
  if (Object.hasOwn(e.files, 'authkeys')) await chmod(join(dir, 'authkeys'), Number.parseInt(e.expect.authkeysMode ?? '0600', 8));
  const yaml = Object.hasOwn(e.files, YAML_FILE);
  const result = await loadConfig({
    configPath: yaml ? join(dir, YAML_FILE) : null,
    haDir: yaml ? null : dir,
    env: e.env,
    hostname: e.expect.hostname ?? 'cookbook',
    interfaces: e.expect.interfaces === undefined ? ['lo', 'eth0'] : e.expect.interfaces,
  });
  return { dir, result };
}
