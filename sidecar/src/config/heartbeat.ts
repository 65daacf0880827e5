/**
 * Reads Linux-HA Heartbeat's three files (ha.cf, authkeys, haresources) into the native document
 * shape, recording the file and line of every value. Values are passed on as written; the schema
 * judges them, so `keepalive 1` and `keepalive: 1` meet the same rules and messages.
 *
 * Anything we would not honour is an error, never silently dropped: an operator must not believe
 * a directive works when it does not.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseDurationMs } from './duration.js';
import { problemAt, quote } from './problem.js';
import type { ConfigProblem, ProblemRule, Where } from './problem.js';
import { canonicalAddress, parseFlag } from './schema.js';
import { listLimit } from './limits.js';
import { pathKey, prefixLocator, readSource } from './source.js';
import type { SourceDocument } from './source.js';

export interface HeartbeatTexts {
  readonly haCf: { readonly file: string; readonly text: string | null };
  readonly authkeys: { readonly file: string; readonly text: string | null };
  readonly haresources: { readonly file: string; readonly text: string | null };
}

export async function readHeartbeatDir(dir: string): Promise<SourceDocument> {
  const files = { haCf: join(dir, 'ha.cf'), authkeys: join(dir, 'authkeys'), haresources: join(dir, 'haresources') };
  const [haCf, authkeys, haresources] = await Promise.all([
    readSource(files.haCf, { secret: false }),
    readSource(files.authkeys, { secret: true }),
    readSource(files.haresources, { secret: false }),
  ]);
  const source = translateHeartbeat({
    haCf: { file: files.haCf, text: haCf.text },
    authkeys: { file: files.authkeys, text: authkeys.text },
    haresources: { file: files.haresources, text: haresources.text },
  });
  return { ...source, problems: [...haCf.problems, ...authkeys.problems, ...haresources.problems, ...source.problems] };
}

interface UcastEntry {
  readonly ucast: { readonly iface: string; readonly peers: string[] };
}

/** The native-shaped document being built; scalars are added under their native key. */
interface HeartbeatDoc {
  readonly nodes: string[];
  readonly paths: object[];
  readonly groups: { readonly vips: string[]; container?: object }[];
  readonly ping_nodes: string[];
  readonly auth: { send_key?: string; readonly keys: object[] };
  [key: string]: unknown;
}

/** Collects the document, the locations of its values and the problems found on the way. */
class Translation {
  readonly doc: HeartbeatDoc = { nodes: [], paths: [], groups: [], ping_nodes: [], auth: { keys: [] } };
  readonly where = new Map<string, Where>();
  /** SourceDocument.derived: what was filled in rather than read. */
  readonly derived = new Set<string>();
  readonly problems: ConfigProblem[] = [];
  readonly warnings: ConfigProblem[] = [];
  readonly mcastPorts: { readonly port: string; readonly at: Where }[] = [];

  private readonly full = new Set<string>();

  /**
   * Appends to a list at `path` of the document; returns the new item's index, or -1 when the
   * list is at its limit (config/limits.ts), which is reported once per list.
   */
  add<T>(list: T[], path: string, value: T, at: Where): number {
    const limit = listLimit(path);
    if (list.length >= limit) {
      if (!this.full.has(path)) this.error(at, 'too-many', `more than ${limit} ${path.split('.').at(-1)!.replace('_', ' ')} (from here on they are not read)`, `keep at most ${limit}`);
      this.full.add(path);
      return -1;
    }
    this.where.set(`${path}.${list.push(value) - 1}`, at);
    return list.length - 1;
  }
  set(key: string, value: unknown, at: Where): void {
    this.doc[key] = value;
    this.where.set(key, at);
  }
  error(at: Where, rule: ProblemRule, message: string, fix: string): void {
    this.problems.push(problemAt(at, rule, message, fix));
  }
  warn(at: Where, rule: ProblemRule, message: string, fix: string): void {
    this.warnings.push(problemAt(at, rule, message, fix));
  }
}

/** Pure: the three texts (null when unreadable, already reported) to one source document. */
export function translateHeartbeat(texts: HeartbeatTexts): SourceDocument {
  const t = new Translation();
  if (texts.haCf.text !== null) translateHaCf(t, texts.haCf.file, texts.haCf.text);
  if (texts.authkeys.text !== null) translateAuthkeys(t, texts.authkeys.file, texts.authkeys.text);
  if (texts.haresources.text !== null) translateHaresources(t, texts.haresources.file, texts.haresources.text);
  const fileOf = (first: PropertyKey | undefined) => (first === 'auth' ? texts.authkeys.file : first === 'groups' ? texts.haresources.file : texts.haCf.file);
  return {
    kind: 'heartbeat',
    files: [texts.haCf.file, texts.authkeys.file, texts.haresources.file],
    doc: t.doc,
    locate: prefixLocator(t.where, (path) => ({ file: fileOf(path[0]), line: null, key: pathKey(path) })),
    derived: t.derived,
    problems: t.problems,
    warnings: t.warnings,
  };
}

/**
 * Heartbeat's own defaults for what neither ha.cf nor an `HB_*` variable set, applied after the
 * variables so that HB_DEADTIME moves the timing derived from it (heartbeat/config.c,
 * init_config): keepalive 1 s, deadtime 30 s, warntime deadtime / 2, initdead deadtime when
 * above 10 s, else 12 s below 6 s, else 2 × deadtime. Returns the warnings it owes.
 */
export function fillHeartbeatDefaults(doc: Record<string, unknown>, haCf: string): ConfigProblem[] {
  doc['keepalive'] ??= '1000ms';
  doc['deadtime'] ??= '30000ms';
  const deadtime = parseDurationMs(doc['deadtime']);
  if (deadtime !== null) {
    doc['warntime'] ??= `${Math.floor(deadtime / 2)}ms`;
    doc['initdead'] ??= `${deadtime > 10_000 ? deadtime : deadtime < 6_000 ? 12_000 : 2 * deadtime}ms`;
  }
  if (doc['auto_failback'] !== undefined) return [];
  doc['auto_failback'] = true;
  const at: Where = { file: haCf, line: null, key: 'auto_failback' };
  return [problemAt(at, 'auto-failback-default', "auto_failback is not set: Heartbeat's default is its deprecated legacy mode, taken here as on", 'add auto_failback on (or off) to ha.cf')];
}

// Heartbeat folds node names to lower case (add_node in heartbeat/config.c), and so must we,
// or `node Cookbook` would never match a host named cookbook.
const nodeName = (name: string) => name.toLowerCase();

interface Directive {
  readonly usage: string;
  readonly args: readonly [min: number, max: number];
  /** Given at most once: a second line is an error rather than Heartbeat's silent "last wins". */
  readonly once?: true;
  readonly apply: (t: Translation, args: readonly string[], at: Where) => void;
}

const timing = (name: string): Directive => ({ usage: `${name} 2 (seconds, or 500ms)`, args: [1, 1], once: true, apply: (t, [v], at) => t.set(name, v, at) });

function loggingOnly(t: Translation, at: Where): void {
  t.warn(at, 'logging-directive-ignored', `${at.key} has no effect: heartbeat-sidecar logs JSON lines to stdout`, 'remove the line; set log.file or HB_LOG_FILE for a log file, HB_LOG_LEVEL=debug for debug output');
}

const HA_CF: Readonly<Record<string, Directive>> = {
  keepalive: timing('keepalive'),
  deadtime: timing('deadtime'),
  warntime: timing('warntime'),
  initdead: timing('initdead'),
  udpport: { usage: 'udpport 694', args: [1, 1], once: true, apply: (t, [v], at) => t.set('udpport', v, at) },
  auto_failback: {
    usage: 'auto_failback on|off',
    args: [1, 1],
    once: true,
    apply: (t, [v], at) => {
      if (v!.toLowerCase() === 'legacy') return t.error(at, 'unsupported-setting', 'auto_failback legacy is not supported (Heartbeat deprecates it too)', 'write auto_failback on to return groups to their preferred node, or off to leave them with their holder');
      const on = parseFlag(v);
      if (on === undefined) return t.error(at, 'invalid-value', `auto_failback ${quote(v!)} is not on or off`, 'write auto_failback on or auto_failback off');
      t.set('auto_failback', on, at);
    },
  },
  node: { usage: 'node NAME [NAME...]', args: [1, Infinity], apply: (t, names, at) => names.forEach((n) => t.add(t.doc.nodes, 'nodes', nodeName(n), at)) },
  ucast: {
    usage: 'ucast IFACE PEER-ADDRESS',
    args: [2, 2],
    // Several lines on one interface are one path: each heartbeat goes to every peer on it.
    apply: (t, [iface, peer], at) => {
      let i = t.doc.paths.findIndex((p) => (p as Partial<UcastEntry>).ucast?.iface === iface);
      if (i < 0) i = t.add(t.doc.paths, 'paths', { ucast: { iface: iface!, peers: [] } } satisfies UcastEntry, at);
      if (i < 0) return;
      const peers = (t.doc.paths[i] as UcastEntry).ucast.peers;
      if (peers.includes(peer!)) return t.error(at, 'duplicate-directive', `ucast ${iface} ${peer} is given twice`, 'remove one of the lines');
      t.add(peers, `paths.${i}.ucast.peers`, peer!, at);
    },
  },
  mcast: {
    usage: 'mcast IFACE GROUP PORT TTL LOOP (e.g. mcast eth0 239.0.0.94 694 1 0)',
    args: [5, 5],
    apply: (t, [iface, group, port, ttl, loop], at) => {
      t.add(t.doc.paths, 'paths', { mcast: { iface, group, ttl, loop } }, at);
      t.mcastPorts.push({ port: port!, at });
    },
  },
  bcast: { usage: 'bcast IFACE [IFACE...]', args: [1, Infinity], apply: (t, ifaces, at) => ifaces.forEach((iface) => t.add(t.doc.paths, 'paths', { bcast: { iface } }, at)) },
  ping: { usage: 'ping ADDRESS [ADDRESS...]', args: [1, Infinity], apply: (t, addresses, at) => addresses.forEach((a) => t.add(t.doc.ping_nodes, 'ping_nodes', a, at)) },
  autojoin: {
    usage: 'autojoin none',
    args: [1, 1],
    once: true,
    apply: (t, [v], at) => {
      if (v!.toLowerCase() !== 'none') t.error(at, 'unsupported-setting', `autojoin ${quote(v!)} is not supported: only nodes listed with node lines may join`, 'write autojoin none and list every node with a node line');
    },
  },
  crm: {
    usage: 'crm off',
    args: [1, 1],
    once: true,
    // "crm off" is Heartbeat's own haresources mode, which is exactly what we do.
    apply: (t, [v], at) => {
      if (parseFlag(v) !== false) t.error(at, 'unsupported-setting', `crm ${quote(v!)} hands resources to Pacemaker, which heartbeat-sidecar does not run`, 'write crm off (or remove the line): groups come from haresources');
    },
  },
  use_logd: {
    usage: 'use_logd yes|no',
    args: [1, 1],
    once: true,
    apply: (t, [v], at) => (parseFlag(v) === undefined ? t.error(at, 'invalid-value', `use_logd ${quote(v!)} is not yes or no`, 'write use_logd yes or use_logd no, or remove the line') : loggingOnly(t, at)),
  },
  logfacility: { usage: 'logfacility local0', args: [1, 1], once: true, apply: (t, _args, at) => loggingOnly(t, at) },
  debugfile: { usage: 'debugfile PATH', args: [1, 1], once: true, apply: (t, _args, at) => loggingOnly(t, at) },
  logfile: { usage: 'logfile PATH', args: [1, 1], once: true, apply: (t, [file], at) => t.set('log', { file }, at) },
};

// Directives whose replacement is known get that replacement as their fix.
const REPLACED: Readonly<Record<string, string>> = {
  nice_failback: 'write auto_failback on or auto_failback off instead (nice_failback is obsolete in Heartbeat too)',
  udp: 'write bcast instead (udp is its old name)',
  serial: 'remove it: serial links are not supported; use ucast, mcast or bcast',
  baud: 'remove it: serial links are not supported; use ucast, mcast or bcast',
};

function translateHaCf(t: Translation, file: string, text: string): void {
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    // Heartbeat ends a line at the first '#', wherever it is, and splits on white space and commas.
    const words = raw.split('#')[0]!.split(/[\s,]+/).filter((w) => w !== '');
    if (words.length === 0) return;
    const [name, ...args] = words as [string, ...string[]];
    const at: Where = { file, line: i + 1, key: name };
    const directive = Object.hasOwn(HA_CF, name) ? HA_CF[name] : undefined;
    if (directive === undefined) {
      return t.error(at, 'unknown-directive', `unknown or unsupported directive ${quote(name)}`, (Object.hasOwn(REPLACED, name) ? REPLACED[name]! : `remove the line or correct the spelling; supported: ${Object.keys(HA_CF).join(', ')}`));
    }
    const [min, max] = directive.args;
    if (args.length < min || args.length > max) {
      return t.error(at, 'directive-arguments', `${name} takes ${min === max ? min : `${min} or more`} argument${max === 1 ? '' : 's'}, got ${args.length}`, `write ${directive.usage}`);
    }
    if (directive.once === true) {
      const first = seen.get(name);
      if (first !== undefined) return t.error(at, 'duplicate-directive', `${name} is given again (first on line ${first})`, `keep one ${name} line`);
      seen.set(name, i + 1);
    }
    directive.apply(t, args, at);
  });
  // Every path binds one socket to udpport, so an mcast line cannot have a port of its own.
  const udpport = String(t.doc['udpport'] ?? 694);
  for (const { port, at } of t.mcastPorts) {
    if (port !== udpport) t.error(at, 'mcast-port-mismatch', `mcast port ${port} differs from udpport ${udpport}`, `every path uses udpport: write ${udpport} in the mcast line, or change udpport`);
  }
}

function translateAuthkeys(t: Translation, file: string, text: string): void {
  const auth = t.doc.auth;
  let authLine: number | null = null;
  let badAuthLine = false;
  let keyLines = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    // Only a leading '#' starts a comment here: a secret may contain '#'. Lines are never quoted
    // in messages, because they hold secrets. The text is latin1 (one character per byte), so
    // words split on ASCII blanks only, as Heartbeat's isspace() does: byte 0xA0 inside a UTF-8
    // secret is not a space.
    const words = raw.replace(/^[ \t\f\v\r]+|[ \t\f\v\r]+$/g, '').split(/[ \t\f\v\r]+/);
    if (words[0] === '' || words[0]!.startsWith('#')) return;
    const at: Where = { file, line: i + 1, key: words[0] === 'auth' ? 'auth' : `key ${words[0]}` };
    if (words[0] === 'auth') {
      if (words.length !== 2 || !/^\d+$/.test(words[1]!)) {
        badAuthLine = true;
        return t.error(at, 'invalid-line', 'the auth line must be "auth N"', 'write auth 1, naming the key this node signs with');
      }
      if (authLine !== null) return t.error(at, 'duplicate-directive', `auth is given again (first on line ${authLine})`, 'keep one auth line');
      authLine = i + 1;
      auth.send_key = words[1];
      t.where.set('auth.send_key', at);
      return;
    }
    keyLines++;
    const [id, method, secret, ...extra] = words;
    if (!/^\d+$/.test(id!) || method === undefined) return t.error(at, 'invalid-line', 'a line must be "auth N" or "N METHOD SECRET"', 'write e.g. auth 1 and 1 sha1 SECRET');
    // Heartbeat reads only the first word of a secret; a longer one would lose its tail unnoticed.
    if (extra.length > 0) return t.error(at, 'invalid-line', `key ${id}: the secret must be one word`, 'remove the spaces from the secret (on every node)');
    t.add(auth.keys, 'auth.keys', { id, method, ...(secret === undefined ? {} : { secret }) }, at);
  });
  if (authLine !== null) return;
  // One problem says all that is missing; a line that is there but malformed was reported on
  // its line already. The loader's own "no key" check is skipped for the stand-in below.
  const noAuth = !badAuthLine;
  const noKey = keyLines === 0;
  const whole: Where = { file, line: null, key: 'auth' };
  if (noAuth && noKey) t.error(whole, 'send-key-missing', 'authkeys has no key, and no "auth N" line naming the key to sign with', 'add a key and name it: the two lines auth 1 and 1 sha1 SECRET (the same on every node)');
  else if (noAuth) t.error(whole, 'send-key-missing', 'authkeys has no "auth N" line naming the key to sign with', 'add auth 1 (the id of one of its keys)');
  else if (noKey) t.error(whole, 'send-key-missing', 'authkeys has no key', 'add a key line, e.g. 1 sha1 SECRET (the same on every node)');
  // Carry on with a stand-in, so that the rest of the configuration is still checked; being
  // derived, it is not judged itself (it may be an invalid id, already reported on its line).
  auth.send_key = (auth.keys[0] as { id?: string } | undefined)?.id ?? '0';
  t.derived.add('auth.send_key');
}

const RESOURCE_AGENTS = ['IPaddr', 'IPaddr2', 'IPv6addr'];
const SUPPORTED_AGENTS = [...RESOURCE_AGENTS, 'docker'];
const DOCKER_USAGE = 'docker::NAME or docker::NAME::ON_ACQUIRE::ON_RELEASE (e.g. docker::web::unpause-or-start::pause)';

/** The protected container of a haresources line, in the native shape: the schema judges the values. */
interface ContainerDoc {
  name: string;
  on_acquire?: string;
  on_release?: string;
}

function translateHaresources(t: Translation, file: string, text: string): void {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    // A trailing backslash continues the line (Heartbeat's parse_ha_resources does the same).
    const first = i;
    // Joined once at the end: appending to a growing string, and trimming it on every step, made
    // a 100k-line continuation take 72 s.
    const parts: string[] = [];
    let part = lines[i]!.trimEnd();
    while (part.endsWith('\\') && i + 1 < lines.length) {
      parts.push(part.slice(0, -1));
      part = lines[++i]!.trimEnd();
    }
    parts.push(part.endsWith('\\') ? part.slice(0, -1) : part);
    const line = parts.join(' ');
    const words = line.split('#')[0]!.split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) continue;
    const [node, ...resources] = words as [string, ...string[]];
    const at: Where = { file, line: first + 1, key: node };
    if (resources.length === 0) {
      t.error(at, 'invalid-line', `the line for ${node} names no resource`, `write ${node} IPaddr::10.0.0.100/24/eth0`);
      continue;
    }
    // Addresses first, then at most one container: acquire runs left to right, release right to left.
    const vips: { arg: string; resource: string }[] = [];
    let container: { doc: ContainerDoc; resource: string } | null = null;
    let ok = true;
    for (const resource of resources) {
      const where: Where = { file, line: first + 1, key: resource };
      if (resource === 'docker' || resource.startsWith('docker::')) {
        const doc = dockerArgument(t, resource, where);
        if (doc === null) ok = false;
        else if (container !== null) {
          t.error(where, 'invalid-line', `the line for ${node} names a second container (${container.resource} and ${resource}); a group has at most one`, `keep one docker:: resource on the line, or put the other container in a group of its own`);
          ok = false;
        } else container = { doc, resource };
        continue;
      }
      const arg = vipArgument(t, resource, where);
      if (arg.length === 0) ok = false;
      else if (container !== null) {
        t.error(where, 'invalid-line', `${resource} follows ${container.resource}: the container must come after every address`, `move ${container.resource} to the end of the line`);
        ok = false;
      } else vips.push({ arg: arg[0]!, resource });
    }
    if (!ok) continue;
    if (vips.length === 0) {
      t.error(at, 'invalid-line', `the line for ${node} names no address; the container moves with an address`, `write ${node} IPaddr::10.0.0.100/24/eth0 ${resources.join(' ')}`);
      continue;
    }
    // The group id is its first VIP's address: the same on every node, whatever the node order.
    const group: { name: string; preferred: string; vips: string[]; container?: ContainerDoc } = { name: canonicalAddress(vips[0]!.arg.split('/')[0]!), preferred: nodeName(node), vips: [] };
    const g = t.add(t.doc.groups, 'groups', group, at);
    if (g < 0) continue;
    // Named by its address: a bad address is reported once, as the VIP it is, not again as a name.
    t.derived.add(`groups.${g}.name`);
    for (const v of vips) t.add(group.vips, `groups.${g}.vips`, v.arg, { file, line: first + 1, key: v.resource });
    if (container !== null) {
      group.container = container.doc;
      t.where.set(`groups.${g}.container`, { file, line: first + 1, key: container.resource });
    }
  }
}

/** `docker::web` → {name: web}; `docker::web::start::stop` also sets the policy. */
function dockerArgument(t: Translation, resource: string, at: Where): ContainerDoc | null {
  const [, name, onAcquire, onRelease, ...extra] = resource.split('::');
  if (name === undefined || name === '' || extra.length > 0 || onAcquire === '' || onRelease === '') {
    t.error(at, 'invalid-line', `${resource}: docker takes a container name and optionally its acquire and release policies`, `write ${DOCKER_USAGE}`);
    return null;
  }
  return { name, ...(onAcquire === undefined ? {} : { on_acquire: onAcquire }), ...(onRelease === undefined ? {} : { on_release: onRelease }) };
}

/**
 * Whether a resource is written as a bare address, which means IPaddr, as in Heartbeat. It is
 * judged by its look, not by its validity, so that a typo in an address (10.77.0.300, 2001:db8::g1)
 * is reported as a bad address rather than as an unknown resource agent named after it: digits
 * and dots, hex digits with ':', or the start of either (10.77.0.1O0). An agent is a script name
 * such as IPaddr or drbddisk, which none of these match.
 */
function looksLikeAddress(resource: string): boolean {
  const head = resource.split('/')[0]!;
  return isIP(head) !== 0 || /^[\d.]+$/.test(head) || /^[\da-f.]*:[\da-f:.]*$/i.test(head) || /^\d+\.\d/.test(head) || /^\d[\da-f]{0,3}:[\da-f]{0,4}:/i.test(head);
}

/** `IPaddr::10.77.0.100/24/eth0:1` → `10.77.0.100/24/eth0:1`; a bare address means IPaddr, as in Heartbeat. */
function vipArgument(t: Translation, resource: string, at: Where): string[] {
  // An IPv6 address holds '::' too, so look for a bare address first.
  const bare = looksLikeAddress(resource);
  const sep = bare ? -1 : resource.indexOf('::');
  const agent = bare ? 'IPaddr' : sep < 0 ? resource : resource.slice(0, sep);
  const arg = sep < 0 ? resource : resource.slice(sep + 2);
  if (!RESOURCE_AGENTS.includes(agent)) {
    t.error(at, 'unknown-resource-agent', `unknown resource agent ${quote(agent)}; supported: ${SUPPORTED_AGENTS.join(', ')}`, `remove it from the line: a haresources group moves addresses and at most one container (${DOCKER_USAGE})`);
    return [];
  }
  // Heartbeat separates agent arguments with '::'; after the address only another argument has one.
  if (arg === '' || arg.split('/').slice(1).some((part) => part.includes('::'))) {
    t.error(at, 'invalid-line', `${agent} takes one argument, address/prefix/interface[:label]`, `write ${agent}::10.0.0.100/24/eth0`);
    return [];
  }
  return [arg];
}
