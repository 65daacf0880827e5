/**
 * Loads the configuration from either form, applies `HB_*` overrides, validates it with the one
 * schema and the cross-checks below, and returns a deeply frozen Config or every problem found.
 *
 *   read (heartbeat.ts | native.ts) → env overrides → schema.ts → secret files → cross-checks
 *
 * The secret files and cross-checks judge whatever parsed (schema.ts partsOf), whether or not
 * the whole did, so that one pass reports every problem.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { formatDuration } from './duration.js';
import { MAX_PROBLEMS } from './limits.js';
import { fillHeartbeatDefaults, readHeartbeatDir } from './heartbeat.js';
import { keyLabel, readNativeFile } from './native.js';
import { problemAt } from './problem.js';
import type { ConfigProblem, Locate, ProblemRule, Where } from './problem.js';
import { configSchema, describeConfig, envBindings, knownKeys, partsOf, show } from './schema.js';
import type { DraftKey, Parts } from './schema.js';
import { pathKey, readSourceBytes } from './source.js';
import type { SourceDocument } from './source.js';
import type { Config } from './types.js';
import type { AuthKey } from '../domain/auth.js';
import { largestHeartbeatBytes, MAX_DATAGRAM_BYTES } from '../domain/datagram.js';
import { leaseTtlForVipSec, maxVipLeaseSec } from '../domain/lease-timing.js';

export type { ConfigProblem } from './problem.js';

export interface LoadOptions {
  /** The native YAML file; when given, the Heartbeat directory is not read. */
  readonly configPath?: string | null;
  /** The directory holding ha.cf, authkeys and haresources. */
  readonly haDir?: string | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly hostname: string;
  /** This host's interface names; null skips the check (e.g. checking a config for another host). */
  readonly interfaces: readonly string[] | null;
}

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly ConfigProblem[] }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[]; readonly warnings: readonly ConfigProblem[] };

export async function loadConfig(opts: LoadOptions): Promise<LoadResult> {
  const source = opts.configPath ? await readNativeFile(opts.configPath) : opts.haDir ? await readHeartbeatDir(opts.haDir) : null;
  if (source === null) {
    const fix = 'pass the native YAML file, or the directory holding ha.cf, authkeys and haresources';
    return { ok: false, problems: [{ file: null, line: null, key: null, rule: 'no-source', message: 'no configuration was given', fix }], warnings: [] };
  }
  const problems = [...source.problems];
  const warnings = [...source.warnings];
  const failed = (): LoadResult => ({ ok: false, problems: bounded(inReadingOrder(problems, source.files)), warnings: bounded(inReadingOrder(warnings, source.files)) });
  if (source.doc === null) return failed();

  const doc = source.doc;
  const locate = applyOverrides(source, doc, opts);
  // A variable set over a derived value replaces it with one the operator wrote.
  const derived = (path: readonly PropertyKey[]) => source.derived.has(pathKey(path)) && locate(path).file !== null;
  if (source.kind === 'heartbeat') warnings.push(...fillHeartbeatDefaults(doc, source.files[0]!));
  // reportInput: each issue carries the value the schema judged, which is not always the one in
  // the document (a node written as its name is judged as {name}).
  const parsed = configSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) {
    // A derived value's problem is reported where the value came from; its own would repeat it.
    // (Should nothing else be wrong, its own is kept: a refusal always names a problem.)
    const issues = parsed.error.issues.filter((issue) => !derived(issue.path));
    problems.push(...(issues.length > 0 || problems.length > 0 ? issues : parsed.error.issues).slice(0, MAX_PROBLEMS).flatMap((issue) => issueProblems(issue, locate)));
  }
  const parts = partsOf(doc);
  const secrets = await readSecretFiles(parts.secretFiles, locate, problems);
  crossCheck(parts, { locate, derived, form: source.kind, interfaces: opts.interfaces, problems, warnings });
  /** A key with its secret as bytes; undefined when its secret file gave none (a problem says why). */
  const withSecret = (k: DraftKey, i: number): AuthKey | undefined => {
    const secret = k.secretFile === null ? Buffer.from(k.secret, source.kind === 'heartbeat' ? 'latin1' : 'utf8') : secrets.get(i);
    return secret === undefined ? undefined : { id: k.id, method: k.method, secret };
  };
  warnings.push(...weakSecrets(parts.keys?.map((k, i) => k && withSecret(k, i)) ?? [], locate, source.kind));
  if (parts.tokenFile !== undefined) await readSecret(parts.tokenFile, locate(['api', 'token_file']), problems);
  await checkTlsFiles(parts, locate, problems);
  if (!parsed.success || problems.length > 0) return failed();
  // Every secret file was read: one that was not is a problem, and the configuration refused.
  const keys = parsed.data.auth.keys.map((k, i) => withSecret(k, i)!);
  const config: Config = { source: { kind: source.kind, files: source.files }, ...parsed.data, auth: { sendKeyId: parsed.data.auth.sendKeyId, keys } };
  return { ok: true, config: deepFreeze(config), warnings: bounded(inReadingOrder(warnings, source.files)) };
}

/** The first MAX_PROBLEMS, and one line for the rest: a file of junk must not print a line per byte. */
function bounded(list: ConfigProblem[]): ConfigProblem[] {
  if (list.length <= MAX_PROBLEMS) return list;
  const rest = list.length - MAX_PROBLEMS;
  return [...list.slice(0, MAX_PROBLEMS), { file: null, line: null, key: 'configuration', rule: 'too-many', message: `${rest} more problems are not shown`, fix: 'correct the ones above first' }];
}

/** Variables first, then file by file and line by line, as an operator reads them. */
function inReadingOrder(problems: readonly ConfigProblem[], files: readonly string[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => (p.file === null ? -1 : files.indexOf(p.file) < 0 ? files.length : files.indexOf(p.file));
  return [...problems].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0));
}

/**
 * Writes every set `HB_*` variable, then the host name when no node is named, into the document;
 * problems with those values then point at the variable rather than at a file line.
 * In the Heartbeat form node names are folded to lower case, as Heartbeat does.
 */
function applyOverrides(source: SourceDocument, doc: Record<string, unknown>, opts: LoadOptions): Locate {
  const overridden: { path: readonly string[]; where: Where }[] = [];
  for (const { env, path } of envBindings()) {
    const value = opts.env[env];
    if (value !== undefined && value !== '' && setIn(doc, path, value)) overridden.push({ path, where: { file: null, line: null, key: env } });
  }
  if (doc['node'] === undefined) {
    doc['node'] = opts.hostname;
    overridden.push({ path: ['node'], where: { file: null, line: null, key: 'host name' } });
  }
  if (source.kind === 'heartbeat' && typeof doc['node'] === 'string') doc['node'] = doc['node'].toLowerCase();
  return (path) => overridden.find((o) => o.path.every((p, i) => String(path[i]) === p))?.where ?? source.locate(path);
}

/** Sets a scalar at `path`, creating sections; false when a section in the way is not a mapping. */
function setIn(doc: Record<string, unknown>, path: readonly string[], value: string): boolean {
  let at = doc;
  for (const key of path.slice(0, -1)) {
    at[key] ??= {};
    const next = at[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) return false;
    at = next as Record<string, unknown>;
  }
  at[path[path.length - 1]!] = value;
  return true;
}

const TYPE_WORDS: Readonly<Record<string, string>> = { object: 'a mapping', array: 'a list', string: 'a string', number: 'a number', boolean: 'true or false' };

function issueProblems(issue: z.core.$ZodIssue, locate: Locate): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path).join(', ');
    return issue.keys.map((k) => {
      const where = locate([...issue.path, k]);
      return problemAt(where, 'unknown-key', `unknown key ${where.key}`, `remove it or correct the spelling; known keys here: ${known}`);
    });
  }
  const where = locate(issue.path);
  // A variable names no key, so the message does: "HB_API_PORT: api.port: ..."
  const label = where.file === null ? keyLabel(issue.path) : where.key;
  const fix = issue.code === 'custom' ? (issue.params?.['fix'] as string | undefined) : undefined;
  // What the schema judged, not what the document holds at issue.path: those differ where a
  // value is rewritten before it is judged, as a node written as its name becomes {name}.
  const value = issue.input;
  if (value === undefined) {
    const keys = knownKeys(issue.path);
    const row = describeConfig().find((r) => r.key === issue.path.join('.'));
    const hint = keys.length > 0 ? ` with ${keys.join(', ')}` : row === undefined ? '' : `: ${row.description}`;
    return [problemAt(where, 'missing-key', `${label} is missing`, fix ?? `add ${label}${hint}`)];
  }
  if (issue.code === 'invalid_type') {
    const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
    return [problemAt(where, 'wrong-type', `${label} must be ${expected}, not ${show(value)}`, `write ${label} as ${expected}`)];
  }
  return [problemAt(where, 'invalid-value', `${label}: ${issue.message}`, fix ?? 'correct the value')];
}

/**
 * Reads every named secret file, by its key's index. A secret is its file's bytes as they are,
 * never decoded (less trailing line breaks and blanks); authkeys' secrets (read as latin1, one
 * character per byte) go back into their bytes, and a YAML string is UTF-8, YAML being text.
 */
async function readSecretFiles(files: readonly (string | undefined)[], locate: Locate, problems: ConfigProblem[]): Promise<Map<number, Buffer>> {
  const secrets = new Map<number, Buffer>();
  // One after the other, so that their problems come in the keys' order.
  for (const [i, file] of files.entries()) {
    const secret = file === undefined ? null : await readSecret(file, locate(['auth', 'keys', i, 'secret_file']), problems);
    if (secret !== null) secrets.set(i, secret);
  }
  return secrets;
}

/** The secret in a file; null when there is none (a problem says why). */
async function readSecret(file: string, where: Where, problems: ConfigProblem[]): Promise<Buffer | null> {
  const read = await readSourceBytes(file, { secret: true, key: where.key });
  problems.push(...read.problems);
  if (read.bytes === null) return null;
  const secret = trimTrailingBlanks(read.bytes);
  if (secret.length > 0) return secret;
  problems.push(problemAt(where, 'invalid-value', `${file} is empty`, `write the secret into ${file}`));
  return null;
}

/**
 * With election: etcd, each TLS file must be readable now: the daemon reads them when it starts,
 * and should it fail then, nothing would say which key named the file. Each problem is reported
 * where the key is written, naming the file.
 */
async function checkTlsFiles(c: Parts, locate: Locate, problems: ConfigProblem[]): Promise<void> {
  if (c.election !== 'etcd') return;
  const { caFile, certFile, keyFile } = c.etcd.tls;
  for (const [key, file] of [['ca_file', caFile], ['cert_file', certFile], ['key_file', keyFile]] as const) {
    if (typeof file !== 'string') continue;
    const where = locate(['etcd', 'tls', key]);
    const read = await readSourceBytes(file, { secret: false, key: where.key });
    problems.push(...read.problems.map((p) => problemAt(where, p.rule, `${p.message}: ${file}`, p.fix)));
  }
}

/** A secret file ends with a line break more often than not; the secret does not include it. */
function trimTrailingBlanks(bytes: Buffer): Buffer {
  let end = bytes.length;
  while (end > 0 && [0x0a, 0x0d, 0x20, 0x09].includes(bytes[end - 1]!)) end--;
  return Buffer.from(bytes.subarray(0, end));
}

/** Secrets published in examples: the recipe's authkeys, this project's lab and docs. */
const EXAMPLE_SECRETS = ['topsecretpassword', 'lab-secret-not-for-production', 'not-for-production', 'an example secret of some length', 'changeme', 'secret', 'password'];
/** 128 bits: a random secret this long cannot be guessed offline. */
const STRONG_SECRET_BYTES = 16;

/**
 * A secret anyone can guess lets anyone on the network forge heartbeats and take the VIP. The
 * recipe's own example secret, a short one or one of few distinct characters is said so; only a
 * warning, so the recipe still loads unchanged.
 */
function weakSecrets(keys: readonly (AuthKey | undefined)[], locate: Locate, form: SourceDocument['kind']): ConfigProblem[] {
  const fix = `generate one, e.g. head -c 32 /dev/urandom | base64${form === 'heartbeat' ? ', and write it into authkeys' : ' > FILE, and name FILE in secret_file'} (the same on every node)`;
  const out: ConfigProblem[] = [];
  keys.forEach((k, i) => {
    if (k === undefined || k.method === 'crc') return;
    const where = locate(['auth', 'keys', i]);
    const text = k.secret.toString('latin1');
    if (EXAMPLE_SECRETS.includes(text.toLowerCase())) out.push(problemAt(where, 'weak-secret', `key ${k.id} uses a published example secret: anyone who read the example can forge heartbeats and take the VIP`, fix));
    else if (k.secret.length < STRONG_SECRET_BYTES) out.push(problemAt(where, 'weak-secret', `key ${k.id}'s secret is ${k.secret.length} bytes; under ${STRONG_SECRET_BYTES} it can be guessed offline from one captured heartbeat`, fix));
    else if (new Set(k.secret).size < 8) out.push(problemAt(where, 'weak-secret', `key ${k.id}'s secret has only ${new Set(k.secret).size} distinct bytes`, fix));
  });
  return out;
}

interface CheckContext {
  readonly locate: Locate;
  /** Whether the value at a path was filled in by the reader (SourceDocument.derived): nothing more is said about it. */
  readonly derived: (path: readonly PropertyKey[]) => boolean;
  readonly form: SourceDocument['kind'];
  readonly interfaces: readonly string[] | null;
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** `ha.cf:7`, or the variable's name: how a problem names another place. */
const placeOf = (w: Where) => (w.file === null ? w.key : w.line === null ? w.file : `${w.file}:${w.line}`);
/** Written by the operator (a file line or a variable), not a default nor the host name. */
const isExplicit = (w: Where) => w.line !== null || w.key.startsWith('HB_');

/** The list when every item in it parsed, else undefined. */
function complete<T>(list: readonly (T | undefined)[] | undefined): readonly T[] | undefined {
  return list?.every((item) => item !== undefined) ? (list as readonly T[]) : undefined;
}

/**
 * The rules that span several keys; the same for both forms, worded for the form at hand. They
 * judge what parsed: a rule that needs a value the schema refused is left unjudged, so that the
 * value is reported once, for what is wrong with it.
 */
function crossCheck(c: Parts, ctx: CheckContext): void {
  const { locate } = ctx;
  const error = (where: Where, rule: ProblemRule, message: string, fix: string) => ctx.problems.push(problemAt(where, rule, message, fix));
  const hb = ctx.form === 'heartbeat';
  const nodes = c.nodes ?? [];
  // Whether a name is declared is judged only against every declaration: a refused one may be the one meant.
  const names = complete(c.nodes)?.map((n) => n.name);
  const declared = names !== undefined && names.length > 0 ? [...new Set(names)].join(', ') : 'none';
  const addNode = (n: string) => (hb ? `add "node ${n}" to ha.cf` : `add ${n} to nodes`);

  if (c.nodes?.length === 0) error(locate(['nodes']), 'no-node', 'no node is declared', hb ? 'add a node line naming every host, e.g. node alpha beta' : 'list every host under nodes, e.g. nodes: [alpha, beta]');
  nodes.forEach((n, i) => n !== undefined && nodes.findIndex((m) => m?.name === n.name) < i && error(locate(['nodes', i]), 'duplicate-node', `node ${n.name} is declared twice`, 'declare each node once'));
  if (names !== undefined && names.length > 0 && c.node !== undefined && !names.includes(c.node)) {
    const from = locate(['node']);
    const whence = from.key === 'host name' ? 'its host name' : from.key;
    error(isExplicit(from) ? from : locate(['nodes']), 'own-node-undeclared', `this node is ${c.node} (from ${whence}), which is not a declared node (${declared})`, `${addNode(c.node)}, or set HB_NODE to the declared name of this host`);
  }

  const ifaceExists = (iface: string, where: Where) => {
    if (ctx.interfaces !== null && !ctx.interfaces.includes(iface)) error(where, 'iface-missing', `interface ${iface} does not exist on this host`, `correct the name; this host has ${ctx.interfaces.join(', ') || 'no interfaces'}`);
  };

  // With etcd deciding, heartbeats only show the peers: a cluster may run without them.
  if (c.paths?.length === 0 && c.election !== 'etcd') {
    error(locate(['paths']), 'no-path', 'no heartbeat path is configured, so no peer would ever be heard', hb ? 'add a ucast line per peer (e.g. ucast eth0 10.0.0.2), or an mcast or bcast line' : 'add a path, e.g. paths: [{ucast: {iface: eth0, peers: [10.0.0.2]}}]');
  }
  const pathIds = new Map<string, Where>();
  c.paths?.forEach((p, i) => {
    if (p === undefined) return;
    const where = locate(['paths', i]);
    const id = p.kind === 'mcast' ? `${p.kind} ${p.iface} ${p.group}` : `${p.kind} ${p.iface}`;
    const first = pathIds.get(id);
    if (first !== undefined) error(where, 'duplicate-path', `path ${id} is configured twice (also at ${placeOf(first)})`, 'remove one of them');
    pathIds.set(id, where);
    ifaceExists(p.iface, where);
  });

  const groupIds = new Map<string, Where>();
  const vipAddresses = new Map<string, Where>();
  c.groups?.forEach((g, i) => {
    if (g === undefined) return;
    const where = locate(['groups', i]);
    const first = groupIds.get(g.id);
    if (first !== undefined) error(where, 'duplicate-group', `group ${g.id} is defined twice (also at ${placeOf(first)})`, hb ? 'merge the two haresources lines; a group is named by its first address' : 'give each group its own name');
    groupIds.set(g.id, where);
    if (g.preferred !== null && names !== undefined && !names.includes(g.preferred)) {
      error(locate(['groups', i, 'preferred']), 'node-undeclared', `${g.preferred}, preferred for group ${g.id}, is not a declared node (${declared})`, `${addNode(g.preferred)}, or correct the name`);
    }
    if (g.vips.length === 0) error(where, 'group-without-vip', `group ${g.id} has no VIP`, 'add one, e.g. vips: [10.0.0.100/24/eth0]');
    g.vips.forEach((v, j) => {
      const at = locate(['groups', i, 'vips', j]);
      const owner = vipAddresses.get(v.address);
      if (owner !== undefined) error(at, 'duplicate-vip', `${v.address} is already a VIP (at ${placeOf(owner)})`, 'an address can belong to one group only; remove one');
      vipAddresses.set(v.address, at);
      ifaceExists(v.iface, at);
    });
  });

  heartbeatFits(c, ctx, names);

  const keys = c.keys ?? [];
  keys.forEach((k, i) => {
    if (k === undefined) return;
    const where = locate(['auth', 'keys', i]);
    if (keys.findIndex((m) => m?.id === k.id) < i) error(where, 'duplicate-key', `key ${k.id} is defined twice`, 'give each key its own id');
    if (k.method === 'crc') {
      const fix = hb ? `write ${k.id} sha1 SECRET instead, on every node` : 'use method sha256 with a secret_file';
      ctx.warnings.push(problemAt(where, 'crc-not-authentication', `key ${k.id} uses crc, a checksum and not authentication: anyone on the network can forge heartbeats and take the VIP`, fix));
    }
  });
  const ids = complete(c.keys)?.map((k) => k.id);
  if (ids !== undefined && c.sendKeyId !== undefined && !ids.includes(c.sendKeyId) && !ctx.derived(['auth', 'send_key'])) {
    const where = locate(['auth', 'send_key']);
    if (ids.length === 0) error(where, 'send-key-missing', 'no authentication key is configured', hb ? 'add a key line to authkeys, e.g. 1 sha1 SECRET' : 'add a key, e.g. keys: [{id: 1, secret_file: /run/secrets/hb}]');
    else {
      const known = [...new Set(ids)].join(', ');
      error(where, 'send-key-missing', `the send key ${c.sendKeyId} is not among the keys (${known})`, hb ? `add a line "${c.sendKeyId} sha1 SECRET" to authkeys, or name an existing key in the auth line` : `add a key with id ${c.sendKeyId}, or set send_key to one of ${known}`);
    }
  }

  // Heartbeat's own rules (heartbeat/config.c): deadtime above 2 × keepalive, initdead at least
  // deadtime. A warntime outside [keepalive, deadtime) would warn of every heartbeat or of none.
  const { keepaliveMs, warntimeMs, deadtimeMs, initdeadMs } = c.timing;
  const at = (...keys: string[]) => keys.map((k) => locate([k])).find(isExplicit) ?? locate([keys[0]!]);
  const fmt = formatDuration;
  if (keepaliveMs !== undefined && deadtimeMs !== undefined) {
    if (deadtimeMs <= 2 * keepaliveMs) {
      error(at('deadtime', 'keepalive'), 'deadtime-too-small', `deadtime ${fmt(deadtimeMs)} must be greater than 2 × keepalive (${fmt(2 * keepaliveMs)})`, 'raise deadtime or lower keepalive');
    }
    if (warntimeMs !== undefined && (warntimeMs < keepaliveMs || warntimeMs >= deadtimeMs)) {
      error(at('warntime', 'deadtime', 'keepalive'), 'warntime-out-of-range', `warntime ${fmt(warntimeMs)} must be at least keepalive (${fmt(keepaliveMs)}) and less than deadtime (${fmt(deadtimeMs)})`, deadtimeMs > 2 * keepaliveMs ? `set warntime between them, e.g. ${fmt(Math.floor(deadtimeMs / 2))}` : 'set warntime between them');
    }
  }
  if (initdeadMs !== undefined && deadtimeMs !== undefined && initdeadMs < deadtimeMs) error(at('initdead', 'deadtime'), 'initdead-too-small', `initdead ${fmt(initdeadMs)} must be at least deadtime (${fmt(deadtimeMs)})`, `raise initdead to ${fmt(deadtimeMs)} or more`);
  // The lease is renewed on every reconcile; one late renewal must not drop a held VIP.
  const { vipLeaseSec, reconcileMs } = c;
  if (vipLeaseSec !== undefined && reconcileMs !== undefined && vipLeaseSec * 1000 < 2 * reconcileMs) {
    error(at('vip_lease', 'reconcile'), 'vip-lease-too-short', `vip_lease ${vipLeaseSec} s must be at least 2 × reconcile (${fmt(2 * reconcileMs)}), as each reconcile renews it`, 'raise vip_lease or lower reconcile');
  }
  if (c.election === 'etcd') etcdChecks(c, ctx);
}

/**
 * Every heartbeat must fit one datagram: this node's name, every group and an echo of every peer,
 * under the send key's MAC. Judged only when all of those parsed.
 */
function heartbeatFits(c: Parts, ctx: CheckContext, names: readonly string[] | undefined): void {
  const groups = complete(c.groups)?.map((g) => g.id);
  const sendKey = complete(c.keys)?.find((k) => k.id === c.sendKeyId);
  if (names === undefined || c.node === undefined || groups === undefined || sendKey === undefined) return;
  const peers = [...new Set(names)].filter((n) => n !== c.node);
  const bytes = largestHeartbeatBytes(c.node, groups, peers, sendKey.method);
  if (bytes <= MAX_DATAGRAM_BYTES) return;
  ctx.problems.push(
    problemAt(
      ctx.locate(['groups']),
      'heartbeat-too-big',
      `a heartbeat from ${c.node} would be ${bytes} bytes (its name, ${groups.length} groups, ${peers.length} peer${peers.length === 1 ? '' : 's'}), over the ${MAX_DATAGRAM_BYTES} bytes of one datagram`,
      `shorten group ids or node names by ${bytes - MAX_DATAGRAM_BYTES} bytes in all, or split the groups between two clusters`,
    ),
  );
}

/** election: etcd needs members to talk to, whole TLS pairs over https://, and a VIP lease inside the fence. */
function etcdChecks(c: Parts, ctx: CheckContext): void {
  const { locate } = ctx;
  const error = (where: Where, rule: ProblemRule, message: string, fix: string) => ctx.problems.push(problemAt(where, rule, message, fix));
  if (c.etcd.endpoints?.length === 0) {
    error(locate(['election']), 'etcd-without-endpoints', 'election is etcd, but no etcd endpoint is configured', 'list the etcd members, e.g. etcd: {endpoints: [https://10.0.0.1:2379, https://10.0.0.2:2379, https://10.0.0.3:2379]}');
  }
  const { caFile, certFile, keyFile } = c.etcd.tls;
  // Over http:// the files would go unused and the traffic in the clear, which is not what they ask for.
  if ([caFile, certFile, keyFile].some((f) => typeof f === 'string')) {
    c.etcd.endpoints?.forEach((url, i) => {
      if (url?.startsWith('http://')) error(locate(['etcd', 'endpoints', i]), 'etcd-tls-over-http', `${url} is plain http://, but etcd.tls names certificate files: they would not be used`, `write https://${url.slice('http://'.length)}, or remove etcd.tls`);
    });
  }
  if (certFile !== undefined && keyFile !== undefined && (certFile === null) !== (keyFile === null)) {
    const [has, lacks] = certFile === null ? ['key_file', 'cert_file'] : ['cert_file', 'key_file'];
    error(locate(['etcd', 'tls', has]), 'etcd-tls-incomplete', `etcd.tls has ${has} but no ${lacks}: a client certificate needs both`, `set etcd.tls.${lacks}, or remove etcd.tls.${has}`);
  }
  const ttl = c.etcd.leaseTtlSec;
  if (ttl !== undefined && c.vipLeaseSec !== undefined && c.vipLeaseWritten && c.vipLeaseSec > maxVipLeaseSec(ttl)) {
    error(
      locate(['vip_lease']),
      'vip-lease-over-fence',
      `vip_lease ${c.vipLeaseSec} s is longer than etcd.lease_ttl ${ttl} s allows (${maxVipLeaseSec(ttl)} s: half of it, less the second the kernel may take to remove an expired address): the fence would cut its renewals short and the VIP could lapse while held`,
      `lower vip_lease to ${maxVipLeaseSec(ttl)} s or less, or raise etcd.lease_ttl to ${leaseTtlForVipSec(c.vipLeaseSec)} s`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  // A Buffer cannot be frozen (it is a view on memory); secrets are the only ones here.
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A short fingerprint of what must agree between nodes, for `/status`: equal on two nodes that
 * read the same files. So this node's own name and the file paths are left out, and so are the
 * secrets: `/status` is open, and any public function of a secret (a hash of it, or one keyed
 * with it) lets whoever reads it test guesses offline. Keys are covered by id and method only;
 * nodes whose secrets differ show it in heartbeat_datagrams_rejected_total{reason="badAuth"}.
 */
export function configHash(config: Config): string {
  const { node: _node, source: _source, ...shared } = config;
  const hashed = { ...shared, auth: { ...shared.auth, keys: shared.auth.keys.map((k) => ({ id: k.id, method: k.method })) } };
  return sha256(canonicalJson(hashed)).slice(0, 12);
}

/** JSON with keys sorted at every level, so equal configs give equal text. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
