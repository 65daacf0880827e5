/**
 * The native YAML form, as one zod schema: the single source of the keys, their types, defaults,
 * `HB_*` environment names, validation messages and the README table (`describeConfig`).
 * The Heartbeat files are translated into this same document shape, so both forms share every
 * rule written here.
 *
 * Values arrive from YAML, from Heartbeat directives and from environment variables, so every
 * scalar also accepts its text form ("694", "on", "2s"). Each scalar is a `leaf` that says what
 * it expected and how to fix it, because zod's generic messages ("Invalid input") name no fix.
 */
import { LIST_LIMITS } from './limits.js';
import { SocketAddress, isIP, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { AUTH_METHODS } from '../domain/auth.js';
import type { Frozen } from '../domain/frozen.js';
import { ACQUIRE_POLICIES, RELEASE_POLICIES } from '../domain/groups.js';
import type { ContainerSpec, GroupSpec, Vip } from '../domain/groups.js';
import type { PathSpec } from '../domain/peers.js';
import { ELECTIONS, STORE_LOST_POLICIES, type ElectionSpec } from '../domain/election.js';
import { maxVipLeaseSec, MIN_LEASE_TTL_SEC } from '../domain/lease-timing.js';
import { formatDuration, parseDurationMs } from './duration.js';
import { quote } from './problem.js';

/** One key's documentation. */
export interface FieldDoc {
  readonly description: string;
  /** The key can be overridden by `HB_<PATH>`, the path upper-cased and joined by `_`. */
  readonly env?: true;
  /** For defaults that are derived or host-dependent; plain defaults are read from the schema. */
  readonly default?: string;
}

/**
 * The schema's output: the Config less what only the loader knows (where it came from, and the
 * secrets of keys that name a file). config/types.ts derives the Config from it.
 */
export type Draft = Frozen<z.output<typeof configSchema>>;

/** A key that has no secret yet: YAML may name a `secret_file` that the loader reads. */
export type DraftKey = Draft['auth']['keys'][number];

const docs = z.registry<FieldDoc>();
function documented<T extends z.ZodType>(schema: T, doc: FieldDoc): T {
  docs.add(schema as z.ZodType, doc);
  return schema;
}

interface Rejected {
  readonly rejected: string;
  readonly fix?: string;
}
const reject = (rejected: string, fix?: string): Rejected => ({ rejected, fix });
const isRejected = (v: unknown): v is Rejected => typeof v === 'object' && v !== null && 'rejected' in v;

/**
 * A short, safe rendering of any input, for messages: strings quoted with their control
 * characters escaped, and collections named, not shown (YAML aliases can make cyclic objects).
 */
export function show(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object' && v !== null) return 'a mapping';
  return String(v);
}

/**
 * A scalar key. `check` returns the value, a specific rejection, or undefined for
 * "not <expected>". Missing required keys land here too, as undefined.
 */
function leaf<T>(expected: string, check: (input: unknown) => T | Rejected | undefined) {
  return z.unknown().transform((input, ctx): T => {
    const r = input === undefined ? reject('is missing', `add it: ${expected}`) : check(input);
    if (r !== undefined && !isRejected(r)) return r;
    const why = r as Rejected | undefined;
    ctx.addIssue({ code: 'custom', message: why?.rejected ?? `${show(input)} is not ${expected}`, params: { fix: why?.fix ?? `write ${expected}` }, input });
    return z.NEVER;
  });
}

const DURATION = 'a duration such as 500ms, 1.5s or 2 (seconds)';
function duration(minMs: number) {
  return leaf(DURATION, (v) => {
    const ms = parseDurationMs(v);
    if (ms === null) return undefined;
    return ms >= minMs ? ms : reject(`${show(v)} is too short`, `use ${formatDuration(minMs)} or more`);
  });
}

/** Kernel address lifetimes (`ip addr ... valid_lft`) count whole seconds. */
const wholeSeconds = leaf('a whole number of seconds such as 2 or 10s', (v) => {
  const ms = parseDurationMs(v);
  return ms !== null && ms > 0 && ms % 1000 === 0 ? ms / 1000 : undefined;
});

function integer(min: number, max: number) {
  return leaf(`a whole number from ${min} to ${max}`, (v) => {
    const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
    return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

// Heartbeat's cl_str_to_boolean accepts these words, case-insensitively.
const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);
export function parseFlag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const word = String(v).trim().toLowerCase();
  return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : undefined;
}
const flag = leaf('on or off (or yes/no, true/false)', parseFlag);

function oneOf<const T extends string>(values: readonly T[]) {
  return leaf(`one of ${values.join(', ')}`, (v) => values.find((x) => x === v));
}

const nonEmpty = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const text = leaf('a non-empty string', nonEmpty);
const textOrNull = leaf('a non-empty string or null', (v) => (v === null ? null : nonEmpty(v)));

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const NODE_TEXT = "a node name such as alpha (1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit)";
const nodeNameOf = (v: unknown) => (typeof v === 'string' && NODE_NAME.test(v) ? v : undefined);
const nodeName = leaf(NODE_TEXT, nodeNameOf);

/** Linux dev_valid_name(): under 16 bytes, no '/', ':' or white space, not "." or "..". */
const IFACE_TEXT = "an interface name such as eth0 (at most 15 characters, no ':' or '/')";
const ifaceOf = (v: unknown) => (typeof v === 'string' && /^[^\s/:]{1,15}$/.test(v) && v !== '.' && v !== '..' ? v : undefined);
const iface = leaf(IFACE_TEXT, ifaceOf);

// The UDP transport is IPv4 only, as Heartbeat's media are.
const ipv4 = leaf('an IPv4 address such as 10.0.0.2', (v) => (typeof v === 'string' && isIPv4(v) ? v : undefined));
const ip = leaf('an IPv4 or IPv6 address', (v) => (typeof v === 'string' && isIP(v) !== 0 ? v : undefined));
const mcastGroup = leaf('an IPv4 multicast group from 224.0.0.0 to 239.255.255.255', (v) => {
  const first = typeof v === 'string' && isIPv4(v) ? Number(v.split('.')[0]) : 0;
  return first >= 224 && first <= 239 ? (v as string) : undefined;
});

/** IPv6 in the compressed lower-case form `ip -j` reports (2001:DB8:0::1 → 2001:db8::1), so equal addresses compare equal. */
export function canonicalAddress(address: string): string {
  return isIPv6(address) ? new SocketAddress({ address, family: 'ipv6' }).address : address;
}

const VIP_TEXT = 'address/prefix/interface[:label] such as 10.0.0.100/24/eth0:1, or {address, prefix, iface, label}';

/**
 * Why a VIP's address is not one, named by the family it looks like, so that a typo such as
 * 10.77.0.300 reads as a bad IPv4 address rather than as something else.
 */
function notAnAddress(address: unknown): Rejected {
  if (typeof address !== 'string') return reject(`${show(address)} is not an IP address`, `write ${VIP_TEXT}`);
  // A zone (fe80::1%eth0) is not part of an address one can assign, though isIP accepts it.
  const zone = address.indexOf('%');
  if (zone >= 0 && isIPv6(address.slice(0, zone))) return reject(`${show(address)} has a zone (${show(address.slice(zone))}), which is not part of an address one can assign`, `drop the zone; the interface is the third part, as in ${address.slice(0, zone)}/64/eth0`);
  if (!address.includes(':') && /^\d+\.\d|^[\d.]+$/.test(address)) return reject(`${show(address)} is not a valid IPv4 address: four numbers from 0 to 255 joined by dots`, `correct the address, as in 10.0.0.100/24/eth0`);
  if (address.includes(':')) return reject(`${show(address)} is not a valid IPv6 address: up to eight groups of 1 to 4 hex digits joined by ':', one run of zero groups may be shortened to '::'`, `correct the address, as in 2001:db8::100/64/eth0`);
  return reject(`${show(address)} is not a valid IPv4 or IPv6 address`, `write ${VIP_TEXT}`);
}

const VIP_KEYS = new Set(['address', 'prefix', 'iface', 'label']);

/**
 * One VIP from `10.77.0.100/24/eth0:1` (haresources' IPaddr argument, also accepted in YAML) or
 * from a mapping. A label is Linux's IPv4 alias name; it must start with the interface name.
 * IPv6 addresses are kept in the canonical form `ip -j` reports, so they compare equal.
 */
function vipOf(input: unknown): Vip | Rejected | undefined {
  let f: Record<string, unknown>;
  if (typeof input === 'string') {
    const [address, prefix, ifaceLabel, ...extra] = input.split('/');
    if (extra.length > 0) return reject(`${show(input)} has more than three '/'-separated parts`, 'write address/prefix/interface[:label]; the broadcast address follows from the prefix');
    const labelled = ifaceLabel?.includes(':') === true;
    f = { address, prefix, iface: labelled ? ifaceLabel!.slice(0, ifaceLabel!.indexOf(':')) : ifaceLabel, label: labelled ? ifaceLabel : null };
  } else if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    f = input as Record<string, unknown>;
    const unknown = Object.keys(f).filter((k) => !VIP_KEYS.has(k));
    if (unknown.length > 0) return reject(`unknown key ${show(unknown[0])} in a VIP`, 'use only address, prefix, iface and label');
  } else return undefined;
  const address = f['address'];
  if (typeof address !== 'string' || address.includes('%') || isIP(address) === 0) return notAnAddress(address);
  const family = isIP(address) === 4 ? 4 : 6;
  const example = family === 4 ? `${address}/24/eth0` : `${address}/64/eth0`;
  const prefix = typeof f['prefix'] === 'string' && /^\d+$/.test(f['prefix']) ? Number(f['prefix']) : f['prefix'];
  const maxPrefix = family === 4 ? 32 : 128;
  if (prefix === undefined || prefix === '') return reject(`VIP ${address} has no prefix length`, `write ${example}: the prefix length and the interface cannot be guessed`);
  if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 1 || prefix > maxPrefix) return reject(`VIP ${address}: prefix length ${show(f['prefix'])} is not from 1 to ${maxPrefix}`, `write ${example}`);
  const dev = f['iface'];
  if (dev === undefined || dev === '') return reject(`VIP ${address}/${prefix} names no interface`, `write ${example}: name the interface it goes on`);
  if (ifaceOf(dev) === undefined) return reject(`VIP ${address}/${prefix}: ${show(dev)} is not ${IFACE_TEXT}`, `write ${example}`);
  const label = f['label'] ?? null;
  if (label !== null && family === 6) return reject(`VIP ${address}: IPv6 addresses have no labels`, `drop the label: ${address}/${prefix}/${dev}`);
  if (label !== null && (typeof label !== 'string' || !label.startsWith(`${dev}:`) || label.length > 15 || /[\s/]/.test(label))) {
    return reject(`VIP ${address}: label ${show(label)} must be the interface name, ':' and a suffix, at most 15 characters`, `write ${address}/${prefix}/${dev}:1`);
  }
  return { address: canonicalAddress(address), prefixLength: prefix, iface: dev as string, label: label as string | null, family };
}
const vip = leaf(VIP_TEXT, vipOf);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A node is usually written as its name, and as {name, priority} to give it a priority. A name
 * written alone is judged here, as what was written (nodes[1], not a nodes[1].name nobody wrote),
 * and a value of neither form is told both forms.
 */
const nodeEntry = z.preprocess(
  (v, ctx) => {
    if (typeof v === 'string') {
      if (nodeNameOf(v) === undefined) ctx.addIssue({ code: 'custom', message: `${show(v)} is not ${NODE_TEXT}`, params: { fix: `write ${NODE_TEXT}` }, input: v });
      return { name: v };
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      const quoted = typeof v === 'number' ? `"${v}" in quotes if that is its name, or ` : '';
      ctx.addIssue({ code: 'custom', message: `${show(v)} is not a node: a node is a name, or a mapping {name, priority}`, params: { fix: `write ${quoted}a name such as alpha, or {name: alpha, priority: 100}` }, input: v });
    }
    return v;
  },
  z.strictObject({
    name: nodeName,
    /** Higher wins when no preferred node or holder decides the election. Heartbeat files: 0. */
    priority: integer(0, 65535).prefault(0),
  }),
);

const pathEntry = z
  .strictObject({
    ucast: z.strictObject({ iface, peers: z.array(ipv4).max(LIST_LIMITS.peers) }).optional(),
    mcast: z.strictObject({ iface, group: mcastGroup, ttl: integer(1, 255).prefault(1), loop: flag.prefault(false) }).optional(),
    bcast: z.strictObject({ iface }).optional(),
  })
  .transform((p, ctx): PathSpec => {
    const media: PathSpec[] = [];
    if (p.ucast) media.push({ kind: 'ucast', ...p.ucast });
    if (p.mcast) media.push({ kind: 'mcast', ...p.mcast });
    if (p.bcast) media.push({ kind: 'bcast', ...p.bcast });
    if (media.length === 1) return media[0]!;
    ctx.addIssue({ code: 'custom', message: media.length === 0 ? 'a path needs a medium' : 'a path has exactly one medium', params: { fix: 'write one of ucast:, mcast: or bcast: in each list entry' }, input: p });
    return z.NEVER;
  });

/** Docker's container-name rule (also what Compose allows for service names). */
const CONTAINER_TEXT = "a container or Compose service name such as web (letters, digits, '.', '-', '_')";
const containerName = leaf(CONTAINER_TEXT, (v) => (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(v) ? v : undefined));

/** Compose's project-name rule: lower-case letters, digits, '-' and '_', starting with a letter or digit. */
const composeProject = leaf("a Compose project name such as lb (lower-case letters, digits, '-', '_'), or null", (v) =>
  v === null ? null : typeof v === 'string' && /^[a-z0-9][a-z0-9_-]{0,127}$/.test(v) ? v : undefined,
);

/** Docker's stop timeout counts whole seconds; 0 kills at once. */
const stopTimeout = leaf('a whole number of seconds such as 10 or 10s', (v) => {
  const ms = v === 0 || v === '0' ? 0 : parseDurationMs(v);
  return ms !== null && ms >= 0 && ms % 1000 === 0 && ms <= 3_600_000 ? ms / 1000 : undefined;
});

const containerEntry = z
  .strictObject({
    name: containerName,
    project: composeProject.prefault(null),
    on_acquire: oneOf(ACQUIRE_POLICIES).prefault('unpause-or-start'),
    on_release: oneOf(RELEASE_POLICIES).prefault('pause'),
    stop_timeout: stopTimeout.prefault('10s'),
  })
  .transform((c): ContainerSpec => ({ name: c.name, project: c.project, onAcquire: c.on_acquire, onRelease: c.on_release, stopTimeoutSec: c.stop_timeout }));

const groupEntry = z
  .strictObject({
    name: leaf("a group name (letters, digits, '.', ':', '-', '_')", (v) => (typeof v === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : undefined)),
    preferred: leaf(`${NODE_TEXT}, or null`, (v) => (v === null ? null : nodeNameOf(v))).prefault(null),
    vips: z.array(vip).max(LIST_LIMITS.vips),
    container: containerEntry.optional(),
  })
  .transform((g): GroupSpec => ({ id: g.name, preferred: g.preferred, vips: g.vips, container: g.container ?? null }));

const HTTP_URL = 'an http:// or https:// URL such as http://127.0.0.1:80/';
const httpUrl = leaf(HTTP_URL, (v) => {
  if (typeof v !== 'string' || !URL.canParse(v)) return undefined;
  return ['http:', 'https:'].includes(new URL(v).protocol) ? v : undefined;
});

const httpCheck = z
  .strictObject({
    url: documented(httpUrl, { description: 'HTTP health check: GET this URL; a 2xx or 3xx answer is healthy. Checked only while the protected container runs.', default: 'none (no HTTP check)' }),
    interval: documented(duration(10).prefault('1s'), { description: 'Time between HTTP checks.' }),
    timeout: documented(duration(1).prefault('500ms'), { description: 'An HTTP check not answered within this fails.' }),
    rise: documented(integer(1, 100).prefault(2), { description: 'Good HTTP checks in a row that make the node healthy again.' }),
    fall: documented(integer(1, 100).prefault(3), { description: 'Failed HTTP checks in a row that make the node unhealthy.' }),
  })
  .transform((h) => ({ url: h.url, intervalMs: h.interval, timeoutMs: h.timeout, rise: h.rise, fall: h.fall }));

const keyEntry = z
  .strictObject({
    id: integer(0, 255),
    method: oneOf(AUTH_METHODS).prefault('sha256'),
    // A refused secret is never echoed: problems reach logs and a refused reload's /status.
    secret: leaf('a non-empty secret string', (v) => nonEmpty(v) ?? reject('is not a non-empty string (the value is not shown: it is a secret)', 'quote it if it looks like a number: secret: "..."')).optional(),
    secret_file: text.optional(),
  })
  .transform((k, ctx) => {
    const fail = (message: string, fix: string) => {
      ctx.addIssue({ code: 'custom', message, params: { fix }, input: k });
      return z.NEVER;
    };
    // crc ignores any secret, so a secret there would only suggest protection that is not there.
    if (k.method === 'crc') return k.secret === undefined && k.secret_file === undefined ? { id: k.id, method: k.method, secret: '', secretFile: null } : fail('crc takes no secret', 'remove the secret, or better, use sha256 with a secret');
    if (k.secret !== undefined && k.secret_file !== undefined) return fail('has both secret and secret_file', 'keep one of them');
    if (k.secret !== undefined) return { id: k.id, method: k.method, secret: k.secret, secretFile: null };
    if (k.secret_file !== undefined) return { id: k.id, method: k.method, secret: null, secretFile: k.secret_file };
    return fail(`${k.method} needs a secret`, 'add secret_file: /run/secrets/... (or secret: ...)');
  });

/** An etcd client URL, as etcd's own --advertise-client-urls writes them. */
const ETCD_ENDPOINT_TEXT = 'an etcd client URL such as https://10.0.0.1:2379 (http:// or https://, a host and a port)';
const etcdEndpoint = leaf(ETCD_ENDPOINT_TEXT, (v) => {
  if (typeof v !== 'string' || !URL.canParse(v)) return undefined;
  const url = new URL(v);
  if (!['http:', 'https:'].includes(url.protocol) || url.hostname === '' || url.port === '') return undefined;
  return url.pathname === '/' && url.search === '' ? `${url.protocol}//${url.host}` : reject(`${show(v)} has a path or a query`, 'write only the scheme, host and port, e.g. https://10.0.0.1:2379');
});

/** Every key this daemon writes lies under the prefix; several clusters can share one etcd. */
const etcdPrefix = leaf("a key prefix starting and ending with '/', such as /heartbeat-sidecar/web/", (v) => (typeof v === 'string' && /^\/[\x21-\x7e]*$/.test(v) && v.endsWith('/') && !v.includes('//') ? v : undefined));

/**
 * etcd grants leases in whole seconds. The least TTL is the one that still leaves a VIP a whole
 * second of kernel lifetime before the fence at every moment (domain/lease-timing.ts); that is above
 * etcd's own minimum (1.5 s at its defaults).
 */
const LEASE_TTL_TEXT = `a whole number of seconds from ${MIN_LEASE_TTL_SEC} to 600, such as 5s`;
const leaseTtl = leaf(LEASE_TTL_TEXT, (v) => {
  const ms = parseDurationMs(v);
  if (ms === null || ms % 1000 !== 0 || ms <= 0 || ms > 600_000) return undefined;
  if (ms >= MIN_LEASE_TTL_SEC * 1000) return ms / 1000;
  return reject(
    `${formatDuration(ms)} is shorter than ${MIN_LEASE_TTL_SEC} s, the least that leaves a VIP a whole second of kernel lifetime before the fence (the kernel removes an expired address up to a second late)`,
    `raise etcd.lease_ttl to ${MIN_LEASE_TTL_SEC}s or more`,
  );
});

const etcdShape = {
    endpoints: documented(z.array(etcdEndpoint).max(LIST_LIMITS.endpoints).prefault([]), { description: 'With election: etcd, the client URLs of the etcd members, e.g. [https://10.0.0.1:2379, https://10.0.0.2:2379, https://10.0.0.3:2379].' }),
    prefix: documented(etcdPrefix.prefault('/heartbeat-sidecar/'), { description: 'Key prefix of every key this cluster writes in etcd; give each cluster sharing an etcd its own.', env: true }),
    lease_ttl: documented(leaseTtl.prefault('5s'), { description: `TTL of this node's etcd lease, at least ${MIN_LEASE_TTL_SEC} s. A holder that cannot renew it releases its VIPs a quarter of it before it can expire; a killed holder's groups move within about this long.`, env: true }),
    on_store_lost: documented(oneOf(STORE_LOST_POLICIES).prefault('release'), { description: 'What a holder does when it cannot renew its lease in time: release (fenced: never two holders; an outage while etcd is unreachable everywhere) or keep (available: it keeps the VIP, unfenced, and another node may take the group meanwhile).', env: true }),
    tls: z
      .strictObject({
        ca_file: documented(textOrNull.prefault(null), { description: "CA bundle that signs the etcd members' certificates; set it to use https:// endpoints with your own CA.", env: true }),
        cert_file: documented(textOrNull.prefault(null), { description: 'Client certificate for etcd (with key_file), when the members require client certificates.', env: true }),
        key_file: documented(textOrNull.prefault(null), { description: 'Private key of cert_file (mode 600).', env: true }),
      })
      .prefault({}),
};
const etcdSection = z.strictObject(etcdShape).prefault({});

const configFields = z
  .strictObject({
    node: documented(nodeName, { description: "This node's name; must be one of `nodes`.", env: true, default: 'host name' }),
    nodes: documented(z.array(nodeEntry).max(LIST_LIMITS.nodes), { description: 'Every node of the cluster: a name, or {name, priority}. Higher priority wins when no preferred node or holder decides.' }),
    udpport: documented(integer(1, 65535).prefault(694), { description: 'UDP port of every path.', env: true }),
    election: documented(oneOf(ELECTIONS).prefault('heartbeat'), { description: "Who decides each group's holder: heartbeat (the nodes among themselves, over the paths) or etcd (an election held in etcd under each node's lease; see docs/etcd.md).", env: true }),
    etcd: etcdSection,
    paths: documented(z.array(pathEntry).max(LIST_LIMITS.paths), { description: 'Heartbeat paths, each {ucast: {iface, peers}}, {mcast: {iface, group, ttl, loop}} or {bcast: {iface}}. A peer is dead only when silent on all of them. With election: etcd they may be empty: heartbeats then only show the peers.' }),
    keepalive: documented(duration(1).prefault('100ms'), { description: 'Interval between heartbeats.', env: true }),
    warntime: documented(duration(1).prefault('400ms'), { description: 'Silence after which a heartbeat counts as late (logged and counted).', env: true }),
    deadtime: documented(duration(1).prefault('800ms'), { description: 'Silence on every path after which a peer is dead. Must exceed 2 × keepalive.', env: true }),
    initdead: documented(duration(1).prefault('3s'), { description: 'At start, wait this long (or until every peer is heard) before acquiring anything.', env: true }),
    auto_failback: documented(flag.prefault(true), { description: 'On: a group returns to its preferred node. Off: the current holder keeps it.', env: true }),
    groups: documented(z.array(groupEntry).max(LIST_LIMITS.groups).prefault([]), {
      description:
        'Resource groups: {name, preferred, vips, container}; a VIP is address/prefix/iface[:label] or {address, prefix, iface, label}; the optional container is {name, project (a Compose project narrowing a service name; default any), on_acquire (unpause-or-start, start, unpause, restart, none; default unpause-or-start), on_release (pause, stop, none; default pause), stop_timeout (seconds before SIGKILL on stop and restart; default 10s)}.',
    }),
    auth: z.strictObject({
      send_key: documented(integer(0, 255), { description: 'Id of the key this node signs with.', env: true }),
      keys: documented(z.array(keyEntry).max(LIST_LIMITS.keys), { description: 'Accepted keys: {id, method (sha256, sha1, md5, crc), secret or secret_file}. Several allow rotation.' }),
    }),
    ping_nodes: documented(z.array(ip).max(LIST_LIMITS.ping_nodes).prefault([]), { description: 'Addresses proving outside reachability; a node reaching none is ineligible.' }),
    api: z
      .strictObject({
        host: documented(text.prefault('0.0.0.0'), { description: 'Address the HTTP API binds to; all interfaces so Prometheus can scrape.', env: true }),
        port: documented(integer(1, 65535).prefault(9694), { description: 'HTTP API port.', env: true }),
        token_file: documented(textOrNull.prefault(null), { description: 'File holding the bearer token for admin actions (mode 600); without it they are refused.', env: true }),
      })
      .prefault({}),
    vip_lease: documented(wholeSeconds.optional(), { description: 'Kernel lifetime of a VIP, renewed while held, so a crashed holder’s VIP vanishes by itself.', env: true, default: 'max(2 s, deadtime rounded up to seconds); with election: etcd at most half of etcd.lease_ttl less 1 s' }),
    reconcile: documented(duration(10).prefault('500ms'), { description: "How often the protected containers are brought back to their roles, and, while the kernel's address events are not heard, the VIPs listed and compared with the claims. Leases are renewed every third of vip_lease.", env: true }),
    garp: z
      .strictObject({
        burst: documented(integer(1, 100).prefault(3), { description: 'Gratuitous ARP / unsolicited NA sent at once on acquire.', env: true }),
        repeat_after: documented(duration(0).prefault('1s'), { description: 'Two more bursts after acquire, this far apart, past the neighbour locktime of clients that heard another holder; 0 turns them off.', env: true }),
        refresh: documented(duration(0).prefault(0), { description: 'Re-announce this often while holding; 0 turns it off.', env: true }),
      })
      .prefault({}),
    notify: documented(textOrNull.prefault(null), { description: 'Command run on every transition with from, to and reason as arguments.', env: true }),
    health: z.strictObject({ http: httpCheck.optional() }).prefault({}),
    log: z
      .strictObject({
        level: documented(oneOf(LOG_LEVELS).prefault('info'), { description: 'Log level; logs are JSON lines on stdout.', env: true }),
        file: documented(textOrNull.prefault(null), { description: 'Also write the logs to this file.', env: true }),
      })
      .prefault({}),
  });

/**
 * The document, in the names and units the daemon reads: durations in milliseconds, names after
 * Heartbeat's directives. The Config's type is this output (config/types.ts).
 */
export const configSchema = configFields.transform((c) => ({
  /** This node's name: HB_NODE, else the YAML `node`, else the host name. Must be one of `nodes`. */
  node: c.node,
  nodes: c.nodes,
  /** UDP port of every path (`udpport`). */
  port: c.udpport,
  paths: c.paths,
  timing: { keepaliveMs: c.keepalive, warntimeMs: c.warntime, deadtimeMs: c.deadtime, initdeadMs: c.initdead },
  autoFailback: c.auto_failback,
  election: electionOf(c.election, c.etcd),
  groups: c.groups,
  auth: {
    /** The key id this node signs with (`auth N` in authkeys). */
    sendKeyId: c.auth.send_key,
    /** Every key this node accepts; includes the send key. Several allow rotation. */
    keys: c.auth.keys,
  },
  /** Addresses that prove outside reachability; a node that reaches none is ineligible. */
  pingNodes: c.ping_nodes,
  api: { host: c.api.host, port: c.api.port, tokenFile: c.api.token_file },
  /** Kernel lifetime given to a VIP, renewed while held, so a crashed holder's VIP vanishes by itself. */
  vipLeaseSec: c.vip_lease ?? defaultVipLeaseSec(c.deadtime, c.election === 'etcd' ? c.etcd.lease_ttl : null),
  /** How often actual state (VIPs on interfaces) is compared with desired, and leases renewed. */
  reconcileMs: c.reconcile,
  garp: {
    /** Announcements sent at once on acquire. */
    burst: c.garp.burst,
    /** Two more bursts after acquire, this far apart, for caches that missed the first; 0 for none. */
    repeatAfterMs: c.garp.repeat_after,
    /** Periodic re-announce while holding; 0 turns it off. */
    refreshMs: c.garp.refresh,
  },
  /** Run on every transition with from, to and reason as arguments; null for none. */
  notifyCommand: c.notify,
  /** Local health checks besides the protected container's own. */
  health: { http: c.health.http ?? null },
  log: c.log,
}));

/**
 * The VIP lease when none is set: deadtime rounded up to whole seconds, at least 2 s; with
 * election: etcd no longer than the fence allows (maxVipLeaseSec).
 */
function defaultVipLeaseSec(deadtimeMs: number, leaseTtlSec: number | null): number {
  const byDeadtime = Math.max(2, Math.ceil(deadtimeMs / 1000));
  return leaseTtlSec === null ? byDeadtime : Math.min(byDeadtime, maxVipLeaseSec(leaseTtlSec));
}

/** The election as the daemon reads it: the heartbeat election, or etcd's with its settings. */
function electionOf(backend: (typeof ELECTIONS)[number], etcd: z.output<typeof etcdSection>): ElectionSpec {
  if (backend === 'heartbeat') return { backend };
  const tls = etcd.tls.ca_file === null && etcd.tls.cert_file === null && etcd.tls.key_file === null ? null : { caFile: etcd.tls.ca_file, certFile: etcd.tls.cert_file, keyFile: etcd.tls.key_file };
  return { backend, endpoints: etcd.endpoints, prefix: etcd.prefix, leaseTtlSec: etcd.lease_ttl, onStoreLost: etcd.on_store_lost, tls };
}

/**
 * What the cross-checks (load.ts) look at, each part judged alone by its own schema, so that
 * they can run on whatever parsed when the whole did not: undefined where the schema refused a
 * value (it says why), and in a list, undefined in the place of a refused item, so that indices
 * still locate the items.
 */
export interface Parts {
  readonly node: string | undefined;
  readonly nodes: readonly (Draft['nodes'][number] | undefined)[] | undefined;
  readonly paths: readonly (PathSpec | undefined)[] | undefined;
  readonly groups: readonly (GroupSpec | undefined)[] | undefined;
  readonly sendKeyId: number | undefined;
  readonly keys: readonly (DraftKey | undefined)[] | undefined;
  /**
   * Each key's secret_file, by the key's index, wherever it is a file name: even in a key refused
   * for something else, the file's own problems are worth knowing at once.
   */
  readonly secretFiles: readonly (string | undefined)[];
  readonly tokenFile: string | undefined;
  readonly timing: { readonly [K in keyof Draft['timing']]: number | undefined };
  readonly vipLeaseSec: number | undefined;
  readonly reconcileMs: number | undefined;
  readonly election: Draft['election']['backend'] | undefined;
  /** Whether vip_lease was written (in the file or an HB_ variable), not derived. */
  readonly vipLeaseWritten: boolean;
  readonly etcd: {
    readonly endpoints: readonly (string | undefined)[] | undefined;
    readonly leaseTtlSec: number | undefined;
    readonly tls: { readonly caFile: string | null | undefined; readonly certFile: string | null | undefined; readonly keyFile: string | null | undefined };
  };
}

export function partsOf(doc: Record<string, unknown>): Parts {
  const fields = configFields.shape;
  const keys = valueAt(doc, 'auth', 'keys');
  const deadtimeMs = fields.deadtime.safeParse(doc['deadtime']).data;
  const etcd = etcdShape;
  const election = fields.election.safeParse(doc['election']).data;
  const leaseTtlSec = etcd.lease_ttl.safeParse(valueAt(doc, 'etcd', 'lease_ttl')).data;
  const tlsFile = (key: string) => textOrNull.safeParse(valueAt(doc, 'etcd', 'tls', key) ?? null).data;
  return {
    election,
    vipLeaseWritten: doc['vip_lease'] !== undefined,
    etcd: {
      endpoints: items(etcd.endpoints, etcdEndpoint, valueAt(doc, 'etcd', 'endpoints') ?? []),
      leaseTtlSec,
      tls: { caFile: tlsFile('ca_file'), certFile: tlsFile('cert_file'), keyFile: tlsFile('key_file') },
    },
    node: fields.node.safeParse(doc['node']).data,
    nodes: items(fields.nodes, nodeEntry, doc['nodes']),
    paths: items(fields.paths, pathEntry, doc['paths']),
    groups: items(fields.groups, groupEntry, doc['groups']),
    sendKeyId: fields.auth.shape.send_key.safeParse(valueAt(doc, 'auth', 'send_key')).data,
    keys: items(fields.auth.shape.keys, keyEntry, keys),
    secretFiles: Array.isArray(keys) ? keys.slice(0, LIST_LIMITS.keys).map((k) => text.safeParse(valueAt(k, 'secret_file')).data) : [],
    tokenFile: text.safeParse(valueAt(doc, 'api', 'token_file')).data,
    timing: {
      keepaliveMs: fields.keepalive.safeParse(doc['keepalive']).data,
      warntimeMs: fields.warntime.safeParse(doc['warntime']).data,
      deadtimeMs,
      initdeadMs: fields.initdead.safeParse(doc['initdead']).data,
    },
    // An absent lease follows deadtime; a refused one is not replaced by that default.
    vipLeaseSec: doc['vip_lease'] !== undefined ? fields.vip_lease.safeParse(doc['vip_lease']).data : deadtimeMs === undefined ? undefined : defaultVipLeaseSec(deadtimeMs, election === 'etcd' ? leaseTtlSec ?? null : null),
    reconcileMs: fields.reconcile.safeParse(doc['reconcile']).data,
  };
}

/** A list's items, each judged alone; undefined when the list itself is refused (not a list, too long, missing). */
function items<T>(list: z.ZodType<readonly T[]>, item: z.ZodType<T>, value: unknown): readonly (T | undefined)[] | undefined {
  const whole = list.safeParse(value);
  if (whole.success) return whole.data;
  if (whole.error.issues.some((issue) => issue.path.length === 0)) return undefined;
  return (value as unknown[]).map((v) => item.safeParse(v).data);
}

/** The value at `keys` down nested mappings; undefined where there is no mapping. */
function valueAt(value: unknown, ...keys: string[]): unknown {
  return keys.reduce((at, key) => (typeof at === 'object' && at !== null && !Array.isArray(at) ? (at as Record<string, unknown>)[key] : undefined), value);
}

/** One row of the configuration reference; `default` is null for required keys. */
export interface ConfigRow {
  readonly key: string;
  readonly env: string | null;
  readonly default: string | null;
  readonly description: string;
}

/** Every documented key, in schema order, for the README table and `check-config --help`. */
export function describeConfig(): ConfigRow[] {
  return rowsOf(configSchema, []);
}

/** The `HB_*` variables and the key path each overrides. */
export function envBindings(): { readonly env: string; readonly path: readonly string[] }[] {
  return describeConfig().flatMap((row) => (row.env === null ? [] : [{ env: row.env, path: row.key.split('.') }]));
}

function rowsOf(schema: z.core.$ZodType, path: readonly string[]): ConfigRow[] {
  const object = objectInside(schema);
  if (object === null) return [];
  return Object.entries(object._zod.def.shape).flatMap(([key, field]) => {
    const at = [...path, key];
    const nested = rowsOf(field, at);
    if (nested.length > 0) return nested;
    const doc = docs.get(field);
    if (doc === undefined) return [];
    return [{ key: at.join('.'), env: doc.env ? `HB_${at.join('_').toUpperCase()}` : null, default: doc.default ?? defaultOf(field), description: doc.description }];
  });
}

/** Strips defaults, optionals and transforms down to the object or array inside, if any. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  const def = schema._zod.def;
  if (def.type === 'prefault' || def.type === 'optional') return unwrap((def as z.core.$ZodPrefaultDef | z.core.$ZodOptionalDef).innerType);
  if (def.type !== 'pipe') return schema;
  // A transform keeps its object in `in`; a preprocess (nodes) in `out`.
  const { in: input, out } = def as z.core.$ZodPipeDef;
  const inner = unwrap(input);
  return inner._zod.def.type === 'object' || inner._zod.def.type === 'array' ? inner : unwrap(out);
}

function objectInside(schema: z.core.$ZodType): z.core.$ZodObject | null {
  const inner = unwrap(schema);
  return inner._zod.def.type === 'object' ? (inner as z.core.$ZodObject) : null;
}

/** The keys a mapping at `path` of the document may have (list indices are stepped through). */
export function knownKeys(path: readonly PropertyKey[]): string[] {
  let at: z.core.$ZodType | undefined = configSchema;
  for (const segment of path) {
    const inner: z.core.$ZodType = unwrap(at);
    at = inner._zod.def.type === 'array' ? (inner._zod.def as z.core.$ZodArrayDef).element : objectInside(inner)?._zod.def.shape[String(segment)];
    if (at === undefined) return [];
  }
  return Object.keys(objectInside(at)?._zod.def.shape ?? {});
}

function defaultOf(field: z.core.$ZodType): string | null {
  const def = field._zod.def;
  if (def.type !== 'prefault') return null;
  const value = (def as z.core.$ZodPrefaultDef).defaultValue;
  return Array.isArray(value) ? '[]' : String(value);
}
