/**
 * `npm run fuzz -- [--runs N] [--seed S]`: a longer fuzzing run than the unit tests can afford,
 * for by-hand use. fast-check drives three targets, splitting N runs between them:
 *
 * - wire/bytes: the decoder on arbitrary bytes, and on arbitrary bodies behind a header that is
 *   sometimes signed correctly (random bytes almost never pass the MAC, so without signing the
 *   body parser would never be reached);
 * - wire/corpus: the decoder on corpus datagrams with bytes set, flipped, cut, inserted, deleted
 *   or repeated, then sometimes signed again;
 * - config/corpus: loadConfig on corpus configurations with lines swapped, dropped or repeated,
 *   bytes flipped, files cut or removed, junk inserted, HB_* variables set to junk and authkeys
 *   given other modes.
 *
 * Each answer must be typed: a reject reason with a detail, or problems with a known rule, a
 * message, a fix and a place. A thrown exception (or an untyped answer) is saved, shrunk, as a
 * corpus entry expecting "crash", so corpus.test.ts fails until it is fixed, and the run exits 1.
 * Otherwise it prints the runs done and exits 0. The seed is printed so a run can be repeated.
 */
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import type { ConfigProblem, LoadResult } from '../../sidecar/src/config/load.js';
import { RULES } from '../../sidecar/src/config/problem.js';
import { envBindings } from '../../sidecar/src/config/schema.js';
import type { AuthKey, AuthMethod } from '../../sidecar/src/domain/auth.js';
import { decode, encode } from '../../sidecar/src/wire/codec.js';
import { REJECT_REASONS } from '../../sidecar/src/wire/types.js';
import { CONFIG_DIR, RING, WIRE_DIR, loadConfigEntry, readConfigEntries, readWireEntries, writeConfigEntry, writeWireEntry } from './corpus/entry.js';
import type { ConfigEntry, WireEntry } from './corpus/entry.js';

const { values: args } = parseArgs({ options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' } } });
const RUNS = Number(args.runs);
const SEED = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
if (!Number.isSafeInteger(RUNS) || RUNS < 3 || !Number.isSafeInteger(SEED)) {
  process.stderr.write('usage: node --import tsx test/faults/fuzz.ts [--runs N (at least 3)] [--seed S]\n');
  process.exit(2);
}

const wireCorpus = (await readWireEntries()).map((w) => w.entry);
const configCorpus = (await readConfigEntries()).map((c) => c.entry);

// ---- wire ----------------------------------------------------------------------------------

/** MAC lengths by method (wire/codec.ts): needed to re-sign a mutated datagram in place. */
const MAC_BYTES: Readonly<Record<AuthMethod, number>> = { sha256: 32, sha1: 20, md5: 16, crc: 4 };

/**
 * Replaces the last MAC-length bytes with a valid MAC under the key the header names, as a peer
 * holding the secret could: the only way mutated bodies get past the MAC to the parser.
 */
function resign(bytes: Buffer, keys: readonly AuthKey[]): Buffer {
  const key = bytes.length >= 7 ? keys.find((k) => k.id === bytes[6]) : undefined;
  if (key === undefined || bytes.length - MAC_BYTES[key.method] < 7) return bytes;
  const signed = bytes.subarray(0, bytes.length - MAC_BYTES[key.method]);
  let mac: Buffer;
  if (key.method === 'crc') {
    mac = Buffer.alloc(4);
    mac.writeUInt32BE(crc32(signed));
  } else mac = createHmac(key.method, key.secret).update(signed).digest();
  return Buffer.concat([signed, mac]);
}

type ByteOp =
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'flip'; readonly at: number; readonly bit: number }
  | { readonly op: 'cut'; readonly at: number }
  | { readonly op: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: number; readonly count: number }
  | { readonly op: 'repeat'; readonly at: number; readonly count: number };

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  // Boundary values first: lengths and counts of 0, 1, 127/128 and 255 are where parsers slip.
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('repeat' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 64 }) }),
);

function applyByteOps(bytes: Buffer, ops: readonly ByteOp[]): Buffer {
  let b = Buffer.from(bytes);
  for (const o of ops) {
    const at = b.length === 0 ? 0 : o.at % (o.op === 'insert' || o.op === 'cut' ? b.length + 1 : b.length);
    if (o.op === 'set' && b.length > 0) b[at] = o.value;
    else if (o.op === 'flip' && b.length > 0) b[at] = b[at]! ^ (1 << o.bit);
    else if (o.op === 'cut') b = b.subarray(0, at);
    else if (o.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(o.bytes), b.subarray(at)]);
    else if (o.op === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + o.count)]);
    else if (o.op === 'repeat') b = Buffer.concat([b.subarray(0, at + o.count), b.subarray(at)]);
  }
  return b;
}

interface WireInput {
  readonly bytes: Buffer;
  readonly keys: readonly AuthKey[];
}

const header = (type: number, keyId: number) => Buffer.from([0x48, 0x42, 0x53, 0x43, 1, type, keyId]);
const wireBytes: fc.Arbitrary<WireInput> = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }).map((b) => ({ bytes: Buffer.from(b), keys: RING })),
  fc
    .record({
      type: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 255 })),
      keyId: fc.oneof(fc.constantFrom(...RING.map((k) => k.id), 0, 255), fc.integer({ min: 0, max: 255 })),
      body: fc.uint8Array({ maxLength: 400 }),
      sign: fc.boolean(),
    })
    // A zeroed MAC-sized tail is appended for resign() to overwrite.
    .map(({ type, keyId, body, sign }) => {
      const unsigned = Buffer.concat([header(type, keyId), Buffer.from(body), Buffer.alloc(32)]);
      return { bytes: sign ? resign(unsigned, RING) : unsigned, keys: RING };
    }),
);

const wireMutations: fc.Arbitrary<WireInput> = fc
  .record({ entry: fc.constantFrom(...wireCorpus), ops: fc.array(byteOp, { minLength: 1, maxLength: 6 }), sign: fc.boolean() })
  .map(({ entry, ops, sign }) => {
    const bytes = applyByteOps(entry.bytes, ops);
    return { bytes: sign ? resign(bytes, entry.keys) : bytes, keys: entry.keys };
  });

/** Throws when decode throws or answers with anything but a typed result. */
function checkDecode({ bytes, keys }: WireInput): void {
  const r = decode(bytes, keys);
  if (r.ok) {
    // The format is canonical: what is accepted is exactly what encode would have sent.
    const key = keys.find((k) => k.id === r.keyId);
    if (key === undefined || !encode(r.message, key).equals(bytes)) throw new Error('accepted a datagram that does not re-encode to the same bytes');
  } else if (!REJECT_REASONS.includes(r.reason) || typeof r.detail !== 'string' || r.detail.trim() === '') {
    throw new Error(`untyped rejection ${JSON.stringify(r)}`);
  }
}

// ---- config --------------------------------------------------------------------------------

/** Words the parsers take seriously, and the punctuation each form gives meaning to. */
const JUNK = [
  'keepalive', 'deadtime', 'warntime', 'initdead', 'udpport', 'auto_failback', 'node', 'ucast', 'mcast', 'bcast', 'ping', 'autojoin', 'crm', 'logfile', 'auth',
  'sha1', 'sha256', 'md5', 'crc', 'IPaddr::', 'IPaddr2::10.77.0.100/24/eth0:1', 'IPv6addr::2001:db8::1/64/eth0', 'docker::', 'docker::web::start::stop', '10.77.0.100/24/eth0',
  'cookbook', 'COOKBOOK2', 'eth0', '10.77.0.11', '239.0.0.94', '694', '0', '1', '-1', '256', '65536', '1e400', 'NaN', '500ms', '0.0001us', 'on', 'off', 'legacy', 'none', 'null', '~',
  '#', '\\', '::', '/', ':', ': ', '- ', '-', '[', ']', '{', '}', ',', '&a', '*a', '!!binary', '!!js/function', '<<: *a', '? ', '|', '>', '"', "'", '%YAML 1.1', '---', '...', '\t', '\r', '\u0000', '\uFEFF', 'é', '\uD83D\uDE00',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'nodes:', 'paths:', 'groups:', 'vips:', 'auth:', 'keys:', 'secret_file:', 'api:', 'garp:', 'health:', 'http:', 'url:',
];
const junk = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...JUNK) }, { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) });
const junkLine = fc.array(junk, { maxLength: 6 }).chain((words) => fc.constantFrom(' ', '', ', ', ': ').map((sep) => words.join(sep)));

type TextOp =
  | { readonly op: 'swap'; readonly a: number; readonly b: number }
  | { readonly op: 'drop'; readonly at: number }
  | { readonly op: 'dup'; readonly at: number }
  | { readonly op: 'line'; readonly at: number; readonly text: string }
  | { readonly op: 'junk'; readonly at: number; readonly text: string }
  | { readonly op: 'bytes'; readonly ops: readonly ByteOp[] };

const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('line' as const), at: fc.nat(), text: junkLine }),
  fc.record({ op: fc.constant('junk' as const), at: fc.nat(), text: junk }),
  fc.record({ op: fc.constant('bytes' as const), ops: fc.array(byteOp, { minLength: 1, maxLength: 3 }) }),
);

/** Line operations work on the bytes between newlines, so a file need not stay UTF-8. */
function applyTextOps(file: Buffer, ops: readonly TextOp[]): Buffer {
  let b = file;
  for (const o of ops) {
    if (o.op === 'bytes') {
      b = applyByteOps(b, o.ops);
      continue;
    }
    if (o.op === 'junk') {
      const at = o.at % (b.length + 1);
      b = Buffer.concat([b.subarray(0, at), Buffer.from(o.text), b.subarray(at)]);
      continue;
    }
    const lines: Buffer[] = [];
    for (let start = 0; start <= b.length; ) {
      const nl = b.indexOf(0x0a, start);
      const end = nl < 0 ? b.length : nl;
      lines.push(b.subarray(start, end));
      start = end + 1;
    }
    const i = (n: number) => n % lines.length;
    if (o.op === 'swap') [lines[i(o.a)], lines[i(o.b)]] = [lines[i(o.b)]!, lines[i(o.a)]!];
    else if (o.op === 'drop') lines.splice(i(o.at), 1);
    else if (o.op === 'dup') lines.splice(i(o.at), 0, lines[i(o.at)]!);
    else lines.splice(o.at % (lines.length + 1), 0, Buffer.from(o.text));
    b = Buffer.concat(lines.flatMap((l, k) => (k === 0 ? [l] : [Buffer.from('\n'), l])));
  }
  return b;
}

const ENV_NAMES = envBindings().map((b) => b.env);

const configMutations: fc.Arbitrary<ConfigEntry> = fc
  .record({
    entry: fc.constantFrom(...configCorpus),
    edits: fc.array(fc.record({ file: fc.nat(), remove: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }), ops: fc.array(textOp, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 3 }),
    env: fc.dictionary(fc.constantFrom(...ENV_NAMES), fc.oneof(junk, junkLine), { maxKeys: 3 }),
    mode: fc.option(fc.constantFrom('0600', '0400', '0640', '0644', '0666'), { nil: undefined }),
  })
  .map(({ entry, edits, env, mode }): ConfigEntry => {
    const files: Record<string, Buffer> = { ...entry.files };
    for (const e of edits) {
      const names = Object.keys(files).sort();
      if (names.length === 0) break;
      const name = names[e.file % names.length]!;
      if (e.remove) delete files[name];
      else files[name] = applyTextOps(files[name]!, e.ops);
    }
    const expect = { ...entry.expect, ...(mode === undefined ? {} : { authkeysMode: mode }) };
    return { files, env: { ...entry.env, ...env }, expect };
  });

/** The contract corpus.test.ts holds every entry to: typed problems, each with a place. */
function checkAnswer(r: LoadResult, dir: string, env: Readonly<Record<string, string>>): void {
  if (typeof r.ok !== 'boolean') throw new Error(`untyped result ${JSON.stringify(r)}`);
  if (!r.ok && r.problems.length === 0) throw new Error('refused without naming a problem');
  const bad = (p: ConfigProblem) =>
    !Object.hasOwn(RULES, p.rule) ||
    typeof p.message !== 'string' ||
    p.message.trim() === '' ||
    typeof p.fix !== 'string' ||
    p.fix.trim() === '' ||
    (p.file === null ? p.key === null || !(Object.hasOwn(env, p.key) || p.key === 'host name') : !(p.file.startsWith(`${dir}/`) || (p.key !== null && p.key !== '')));
  const wrong = [...(r.ok ? [] : r.problems), ...r.warnings].find(bad);
  if (wrong !== undefined) throw new Error(`untyped or unplaced problem ${JSON.stringify(wrong)}`);
}

// ---- run -----------------------------------------------------------------------------------

const firstLine = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).split('\n')[0]!.slice(0, 200);
const root = await mkdtemp(join(tmpdir(), 'hb-fuzz-'));
const share = Math.floor(RUNS / 4);
let done = 0;
let failed = false;

function runWire(target: string, arb: fc.Arbitrary<WireInput>, runs: number, seed: number): void {
  const d = fc.check(fc.property(arb, checkDecode), { numRuns: runs, seed });
  done += d.numRuns;
  if (!d.failed || d.counterexample === null) {
    process.stdout.write(`${target}: ${d.numRuns} runs, no crash\n`);
    return;
  }
  const [input] = d.counterexample;
  const file = join(WIRE_DIR, `fuzz-${SEED}-${target.replace('/', '-')}.hex`);
  const entry: WireEntry = { about: `found by fuzz.ts --seed ${SEED} (${target}): ${firstLine(d.errorInstance)}`, expect: 'crash', keys: input.keys, bytes: input.bytes };
  writeWireEntry(file, entry);
  process.stdout.write(`${target}: FAILED after ${d.numRuns} runs (${d.numShrinks} shrinks): ${firstLine(d.errorInstance)}\n  saved ${file}\n`);
  failed = true;
}

async function runConfig(target: string, arb: fc.Arbitrary<ConfigEntry>, runs: number, seed: number): Promise<void> {
  const property = fc.asyncProperty(arb, async (entry) => {
    const { dir, result } = await loadConfigEntry(entry, root);
    try {
      checkAnswer(result, dir, entry.env);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  const d = await fc.check(property, { numRuns: runs, seed });
  done += d.numRuns;
  if (!d.failed || d.counterexample === null) {
    process.stdout.write(`${target}: ${d.numRuns} runs, no crash\n`);
    return;
  }
  const [input] = d.counterexample;
  const dir = join(CONFIG_DIR, `fuzz-${SEED}`);
  writeConfigEntry(dir, { ...input, expect: { ...input.expect, about: `found by fuzz.ts --seed ${SEED} (${target}): ${firstLine(d.errorInstance)}`, ok: 'crash', codes: [], warnings: undefined } });
  process.stdout.write(`${target}: FAILED after ${d.numRuns} runs (${d.numShrinks} shrinks): ${firstLine(d.errorInstance)}\n  saved ${dir}/\n`);
  failed = true;
}

const started = performance.now();
process.stdout.write(`fuzz: seed ${SEED}, ${RUNS} runs over ${wireCorpus.length} wire and ${configCorpus.length} config corpus entries\n`);
try {
  runWire('wire/bytes', wireBytes, share, SEED);
  runWire('wire/corpus', wireMutations, share, SEED + 1);
  await runConfig('config/corpus', configMutations, RUNS - 2 * share, SEED + 2);
} finally {
  await rm(root, { recursive: true, force: true });
}
process.stdout.write(`fuzz: ${done} runs in ${((performance.now() - started) / 1000).toFixed(1)} s, ${failed ? 'FAILED: see the saved corpus entries' : 'no crash'}\n`);
process.exitCode = failed ? 1 : 0;
