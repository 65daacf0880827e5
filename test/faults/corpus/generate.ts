/**
 * Writes the hand-designed corpus entries: `node --import tsx test/faults/corpus/generate.ts`.
 * Wire datagrams are built with the codec's own `encode`, so no entry is hand-typed hex; an
 * entry that must reach the body parser with a broken body is re-signed here with the key's
 * HMAC, as a peer holding the secret could. Each expectation below is what the entry is meant to
 * provoke, written by hand: corpus.test.ts checks it against the decoder and the loader.
 *
 * Only the entries named here are rewritten; entries found by fuzz.ts are left alone.
 */
import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AuthKey } from '../../../sidecar/src/domain/auth.js';
import { encode } from '../../../sidecar/src/wire/codec.js';
import { MAX_DATAGRAM_BYTES } from '../../../sidecar/src/domain/datagram.js';
import type { Message } from '../../../sidecar/src/wire/types.js';
import { CONFIG_DIR, GOLDEN_KEYS, RING, WIRE_DIR, YAML_FILE, formatKeys, writeConfigEntry, writeWireEntry } from './entry.js';
import type { ConfigExpectation, WireExpectation } from './entry.js';

// The keys and messages of the golden vectors in sidecar/src/wire/codec.test.ts.
const { sha256: SHA256, sha1: SHA1, md5: MD5, crc: CRC } = GOLDEN_KEYS;

const HEARTBEAT: Message = {
  type: 'heartbeat',
  node: 'cookbook',
  generation: 1_732_512_000_000,
  seq: 42,
  sentAtMs: 123_456_789,
  priority: 100,
  healthy: true,
  standby: false,
  maintenance: false,
  takeoverEpoch: 3,
  groups: [{ group: '10.77.0.100', claim: 'held' }],
  echoes: [{ node: 'cookbook2', sentAtMs: 987_654, heldMs: 12 }],
};
const RELEASE: Message = {
  type: 'release',
  node: 'cookbook2',
  generation: 1_732_512_345_678,
  seq: 7,
  sentAtMs: 5000,
  priority: 0,
  healthy: true,
  standby: true,
  maintenance: false,
  takeoverEpoch: 0,
  groups: [
    { group: 'web', claim: 'releasing' },
    { group: 'db', claim: 'none' },
  ],
  echoes: [],
};
const TAKEOVER: Message = {
  type: 'takeover-request',
  node: 'nœud-1',
  generation: 2,
  seq: 1,
  sentAtMs: 0,
  priority: 65_535,
  healthy: false,
  standby: false,
  maintenance: true,
  takeoverEpoch: 4_294_967_295,
  groups: [],
  echoes: [{ node: 'grüße', sentAtMs: Number.MAX_SAFE_INTEGER, heldMs: 4_294_967_295 }],
};
const LEAVE: Message = {
  type: 'leave',
  node: 'a',
  generation: 1,
  seq: 1,
  sentAtMs: 1,
  priority: 1,
  healthy: true,
  standby: true,
  maintenance: true,
  takeoverEpoch: 1,
  groups: [{ group: 'g', claim: 'acquiring' }],
  echoes: [],
};
/** 116 bytes + 4 groups of 257 + one of 256 = exactly MAX_DATAGRAM_BYTES under sha256. */
const FULL: Message = {
  ...HEARTBEAT,
  groups: [...HEARTBEAT.groups, ...['a', 'b', 'c', 'd'].map((c) => ({ group: c.repeat(255), claim: 'none' as const })), { group: 'e'.repeat(254), claim: 'none' as const }],
};

const golden = encode(HEARTBEAT, SHA256);
/** Body offsets in `golden` (header is 7 bytes): node 7..15, generation 16, flags 42, group count 47, claim 60, echo count 61. */
const AT = { type: 5, keyId: 6, nodeLength: 7, generation: 16, flags: 42, claim: 60, echoCount: 61 } as const;

function withByte(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = value;
  return copy;
}

function flipBit(bytes: Buffer, bit: number): Buffer {
  return withByte(bytes, bit >> 3, bytes[bit >> 3]! ^ (1 << (bit & 7)));
}

/** Replaces the HMAC of `signed` + old MAC with a valid one: the body parser then sees the bytes. */
function resign(signedPart: Buffer, key: AuthKey): Buffer {
  return Buffer.concat([signedPart, createHmac(key.method, key.secret).update(signedPart).digest()]);
}

/** The golden datagram with its body edited and signed again with SHA256. */
function resealed(edit: (signedPart: Buffer) => Buffer): Buffer {
  return resign(edit(Buffer.from(golden.subarray(0, -32))), SHA256);
}

/** A fixed pseudo-random byte string (xorshift32), so regenerating gives the same file. */
function noise(length: number, seed: number): Buffer {
  let x = seed >>> 0 || 1;
  return Buffer.from(
    Array.from({ length }, () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) & 0xff;
    }),
  );
}

interface WireCase {
  readonly name: string;
  readonly about: string;
  readonly expect: WireExpectation;
  readonly keys?: readonly AuthKey[];
  readonly bytes: Buffer;
}

const WIRE: readonly WireCase[] = [
  { name: 'golden-heartbeat-sha256', about: 'golden vector: heartbeat, HMAC-SHA256', expect: 'ok', bytes: golden },
  { name: 'golden-release-sha1', about: 'golden vector: release under authkeys sha1 (id 1, so it needs its own ring)', expect: 'ok', keys: [SHA1], bytes: encode(RELEASE, SHA1) },
  { name: 'golden-takeover-md5', about: 'golden vector: takeover-request, UTF-8 names, every field at its maximum', expect: 'ok', bytes: encode(TAKEOVER, MD5) },
  { name: 'golden-leave-crc', about: 'golden vector: leave, crc check value', expect: 'ok', bytes: encode(LEAVE, CRC) },
  { name: 'exactly-1400-bytes', about: 'the largest datagram accepted', expect: 'ok', bytes: encode(FULL, SHA256) },
  { name: 'oversized-1401-bytes', about: 'a valid 1400-byte datagram plus one byte: size is checked before anything else', expect: 'tooBig', bytes: Buffer.concat([encode(FULL, SHA256), Buffer.from([0])]) },
  { name: 'oversized-9000-bytes', about: 'a jumbo-frame-sized datagram of noise', expect: 'tooBig', bytes: noise(9000, 9000) },
  { name: 'empty', about: 'a zero-length datagram', expect: 'malformed', bytes: Buffer.alloc(0) },
  { name: 'one-byte', about: 'one byte, the first of the magic', expect: 'malformed', bytes: golden.subarray(0, 1) },
  { name: 'truncated-in-magic', about: 'cut inside the magic', expect: 'malformed', bytes: golden.subarray(0, 3) },
  { name: 'truncated-before-key-id', about: 'six bytes: one short of the header', expect: 'malformed', bytes: golden.subarray(0, 6) },
  { name: 'header-only', about: 'the seven-byte header and nothing else', expect: 'malformed', bytes: golden.subarray(0, 7) },
  { name: 'truncated-shorter-than-mac', about: 'cut so that fewer bytes remain than a sha256 MAC needs', expect: 'malformed', bytes: golden.subarray(0, 30) },
  { name: 'truncated-mid-body', about: 'cut in the middle of the body: the last 32 bytes read as a MAC do not match', expect: 'badAuth', bytes: golden.subarray(0, 60) },
  { name: 'truncated-one-byte-short', about: 'the last MAC byte is missing', expect: 'badAuth', bytes: golden.subarray(0, -1) },
  { name: 'bad-magic', about: 'magic HBSD instead of HBSC', expect: 'malformed', bytes: withByte(golden, 3, 0x44) },
  { name: 'heartbeat-text-packet', about: "Linux-HA Heartbeat's own text packet on the same port", expect: 'malformed', bytes: Buffer.from('>>>\nt=status\nst=active\ndt=2710\nprotocol=1\nsrc=cookbook\nseq=2a\nhg=4d1b6e54\nts=674a1b00\nld=0.00 0.00 0.00 1/100 1000\nttl=3\nauth=1 1b0b66f6b0d0b2bd1d7d3c5b0bb0e60d53aec2c4\n<<<\n') },
  { name: 'version-2', about: 'a newer peer: answered as badVersion, not malformed', expect: 'badVersion', bytes: withByte(golden, 4, 2) },
  { name: 'version-0', about: 'version byte zero, as zeroed memory would give', expect: 'badVersion', bytes: withByte(golden, 4, 0) },
  { name: 'version-255-header-only', about: 'a version byte of 255 and nothing after the header', expect: 'badVersion', bytes: withByte(golden.subarray(0, 7), 4, 0xff) },
  { name: 'unknown-key-id', about: 'signed with key 9, which the ring does not hold', expect: 'unknownKey', bytes: encode(HEARTBEAT, { id: 9, method: 'sha256', secret: Buffer.from('golden-sha256-secret') }) },
  { name: 'wrong-secret', about: 'key id 1 and sha256 as expected, another secret', expect: 'badAuth', bytes: encode(HEARTBEAT, { ...SHA256, secret: Buffer.from('not-the-golden-secret') }) },
  { name: 'wrong-method', about: 'signed with sha256 under id 1 but the ring has sha1 under id 1: the last 20 bytes are read as the MAC', expect: 'badAuth', keys: [SHA1], bytes: golden },
  { name: 'flipped-bit-in-mac', about: 'one bit of the MAC flipped', expect: 'badAuth', bytes: flipBit(golden, (golden.length - 1) * 8) },
  { name: 'flipped-bit-in-body', about: 'one bit of the priority flipped; the MAC no longer matches', expect: 'badAuth', bytes: flipBit(golden, 40 * 8) },
  { name: 'flipped-bit-in-type', about: 'the type byte is signed too', expect: 'badAuth', bytes: flipBit(golden, AT.type * 8) },
  { name: 'crc-corrupted', about: 'crc authenticates nothing but still catches a corrupted byte', expect: 'badAuth', bytes: flipBit(encode(LEAVE, CRC), 20 * 8) },
  { name: 'signed-garbage', about: 'a valid header, then noise: the MAC is checked before any body field is read', expect: 'badAuth', bytes: Buffer.concat([golden.subarray(0, 7), noise(80, 7)]) },
  { name: 'noise-1400', about: '1400 bytes of noise', expect: 'malformed', bytes: noise(1400, 1400) },
  { name: 'zeros-1400', about: '1400 zero bytes', expect: 'malformed', bytes: Buffer.alloc(MAX_DATAGRAM_BYTES) },
  { name: 'sealed-node-length-lies', about: 'node length 200 under a valid MAC: the string runs past the body', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.nodeLength, 200)) },
  { name: 'sealed-echo-count-lies', about: 'echo count 2 with one echo present', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.echoCount, 2)) },
  { name: 'sealed-echo-count-short', about: 'echo count 0 with one echo present: its bytes trail the body', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.echoCount, 0)) },
  { name: 'sealed-empty-body', about: 'a valid MAC over the header alone', expect: 'malformed', bytes: resealed((s) => s.subarray(0, 7)) },
  { name: 'sealed-type-0', about: 'message type 0, which zeroed memory would give', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.type, 0)) },
  { name: 'sealed-unknown-flags', about: 'flag bit 3, which version 1 does not define', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.flags, 0x09)) },
  { name: 'sealed-unknown-claim', about: 'claim code 4', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.claim, 4)) },
  { name: 'sealed-u64-beyond-2-53', about: 'a generation a JavaScript number cannot hold', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.generation + 1, 0x20)) },
  { name: 'sealed-bad-utf8', about: 'a stray 0xff in the node name', expect: 'malformed', bytes: resealed((s) => withByte(s, AT.nodeLength + 1, 0xff)) },
];

/**
 * The recipe of examples/heartbeat-recipe/, copied so the corpus stands on its own, with the
 * lab's addresses (10.77.0.x) in place of the recipe's own.
 */
const RECIPE = {
  'ha.cf': ['autojoin none', 'ucast eth0 10.77.0.11', 'ucast eth0 10.77.0.12', 'keepalive 1', 'deadtime 10', 'warntime 5', 'udpport 694', 'auto_failback on', 'node cookbook', 'node cookbook2', 'use_logd yes', ''].join('\n'),
  authkeys: 'auth 1\n1 sha1 topsecretpassword\n',
  haresources: 'cookbook IPaddr::10.77.0.100/24/eth0:1\n',
} as const;
const recipeWith = (from: string, to: string) => {
  if (!RECIPE['ha.cf'].includes(from)) throw new Error(`the recipe has no ${JSON.stringify(from)}`);
  return RECIPE['ha.cf'].replace(from, to);
};
const USE_LOGD = 'logging-directive-ignored';
/** The recipe's authkeys holds its published example secret. */
const WEAK = 'weak-secret';

const MINIMAL_YAML = ['nodes: [alpha, beta]', 'paths:', '  - {ucast: {iface: eth0, peers: [10.77.0.11, 10.77.0.12]}}', 'auth: {send_key: 1, keys: [{id: 1, secret: not-for-production}]}', ''].join('\n');

interface ConfigCase {
  readonly name: string;
  readonly files: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly expect: ConfigExpectation;
}

/** The recipe with some of its three files replaced (or, with null, left out). */
const hb = (files: Partial<Record<keyof typeof RECIPE, string | null>>): Record<string, string> =>
  Object.fromEntries(Object.entries({ ...RECIPE, ...files }).filter((e): e is [string, string] => e[1] !== null));

const CONFIG: readonly ConfigCase[] = [
  { name: 'hb-recipe', files: hb({}), expect: { about: 'the seed recipe, on the lab\'s addresses, loads as written', ok: true, warnings: [USE_LOGD, WEAK] } },
  {
    name: 'hb-junk-lines',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}!!!@@@ ~~~\nkeepalive\n\u0000\u0001\u00ff\n\t  \t\n# a comment, then a directive with a comma list\nnode ,\n` }),
    expect: { about: 'punctuation, a directive without its argument, control bytes and "node ," (commas are separators)', ok: false, codes: ['unknown-directive', 'directive-arguments', 'unknown-directive', 'directive-arguments'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-unknown-directives',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}nice_failback on\nserial /dev/ttyS0\nrespawn hacluster /usr/lib/heartbeat/ipfail\n__proto__ 1\nKeepalive 2\n` }),
    expect: { about: 'obsolete, unsupported and misspelt directives, and an inherited property name', ok: false, codes: ['unknown-directive', 'unknown-directive', 'unknown-directive', 'unknown-directive', 'unknown-directive'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-bad-durations',
    files: hb({ 'ha.cf': recipeWith('keepalive 1\ndeadtime 10\nwarntime 5', 'keepalive fast\ndeadtime -1\nwarntime 5x') }),
    expect: { about: 'words, a negative number and a unit typo where durations belong', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-deadtime-below-keepalive',
    files: hb({ 'ha.cf': recipeWith('keepalive 1\ndeadtime 10\nwarntime 5', 'keepalive 10\ndeadtime 5\nwarntime 2\ninitdead 4') }),
    expect: { about: 'deadtime 5 s under keepalive 10 s, a warntime below keepalive, an initdead below deadtime', ok: false, codes: ['deadtime-too-small', 'warntime-out-of-range', 'initdead-too-small'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-duplicate-timing',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}deadtime 20\nudpport 695\n` }),
    expect: { about: 'deadtime and udpport given twice: Heartbeat silently takes the last one, we refuse', ok: false, codes: ['duplicate-directive', 'duplicate-directive'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-no-node',
    files: hb({ 'ha.cf': recipeWith('node cookbook\nnode cookbook2\n', '') }),
    expect: { about: 'no node line at all, while haresources prefers cookbook', ok: false, codes: ['no-node', 'node-undeclared'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-own-node-undeclared',
    files: hb({}),
    expect: { about: 'the recipe on a host whose name is in no node line', ok: false, codes: ['own-node-undeclared'], warnings: [USE_LOGD, WEAK], hostname: 'otherhost' },
  },
  {
    name: 'hb-duplicate-nodes',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}node COOKBOOK2 cookbook\n` }),
    expect: { about: 'both nodes declared again, one in upper case: Heartbeat folds names to lower case', ok: false, codes: ['duplicate-node', 'duplicate-node'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-bad-node-name',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}node -dash under_score.ok\n` }),
    // Once reported as "node is missing" (missing-key): the loader looked the name up as {name}.
    expect: { about: 'a node name that starts with a dash', ok: false, codes: ['invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-paths',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}mcast eth0 239.0.0.94 695 1 0\nucast eth0 10.77.0.12\nbcast eth9\nucast eth0 10.77.0.300\n` }),
    expect: { about: 'an mcast port other than udpport, a repeated ucast peer, a missing interface and a bad peer address', ok: false, codes: ['mcast-port-mismatch', 'duplicate-directive', 'iface-missing', 'invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-no-path',
    files: hb({ 'ha.cf': recipeWith('ucast eth0 10.77.0.11\nucast eth0 10.77.0.12\n', '') }),
    expect: { about: 'no ucast, mcast or bcast line: no peer would ever be heard', ok: false, codes: ['no-path'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-missing-interface',
    files: hb({ 'ha.cf': `${RECIPE['ha.cf']}bcast eth9\n`, haresources: 'cookbook IPaddr::10.77.0.100/24/eth7\n' }),
    expect: { about: 'a path and a VIP on interfaces this host does not have', ok: false, codes: ['iface-missing', 'iface-missing'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-authkeys-no-key',
    files: hb({ authkeys: 'auth 1\n' }),
    expect: { about: 'an auth line and no key', ok: false, codes: ['send-key-missing'], warnings: [USE_LOGD] },
  },
  {
    name: 'hb-authkeys-no-auth-line',
    files: hb({ authkeys: '1 sha1 topsecretpassword\n' }),
    expect: { about: 'a key but no auth line naming the send key', ok: false, codes: ['send-key-missing'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-authkeys-unknown-method',
    files: hb({ authkeys: 'auth 1\n1 sha512 topsecretpassword\n' }),
    expect: { about: 'sha512 is not one of Heartbeat\'s methods', ok: false, codes: ['invalid-value'], warnings: [USE_LOGD] },
  },
  {
    name: 'hb-authkeys-missing-secret',
    files: hb({ authkeys: 'auth 1\n1 sha1\n' }),
    expect: { about: 'a sha1 key with no secret', ok: false, codes: ['invalid-value'], warnings: [USE_LOGD] },
  },
  {
    name: 'hb-authkeys-bad-ids',
    files: hb({ authkeys: 'auth one\n# a comment\nx sha1 secret\n256 sha1 secret\n1 sha1 two words\n1 md5 again\n' }),
    expect: {
      // With no valid auth line the loader stands in the first key's id, here the invalid 256; that
      // stand-in, a key the operator never wrote, is not judged again at auth.send_key.
      about: 'a word for the send key, a word and a 256 for key ids, a secret with a space',
      ok: false,
      codes: ['invalid-line', 'invalid-line', 'invalid-value', 'invalid-line'],
      warnings: [USE_LOGD, WEAK],
    },
  },
  {
    name: 'hb-authkeys-world-readable',
    files: hb({}),
    expect: { about: 'the recipe with authkeys mode 644: Heartbeat refuses it too', ok: false, codes: ['secret-file-mode'], warnings: [USE_LOGD, WEAK], authkeysMode: '0644' },
  },
  {
    name: 'hb-authkeys-crc',
    files: hb({ authkeys: 'auth 15\n15 crc\n' }),
    expect: { about: 'crc loads, with a warning that it authenticates nothing', ok: true, warnings: [USE_LOGD, 'crc-not-authentication'] },
  },
  {
    name: 'hb-haresources-bad-vips',
    files: hb({ haresources: 'cookbook IPaddr::10.77.0.300/24/eth0\ncookbook IPaddr::10.77.0.101/33/eth0\ncookbook IPaddr2::10.77.0.102/24/eth0/x\ncookbook IPaddr::10.77.0.103/24\ncookbook IPaddr::10.77.0.104/24/eth0:verylonglabel\n' }),
    expect: { about: 'a bad address, prefix 33, a fourth part, no interface, a label over 15 characters', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-haresources-bad-lines',
    files: hb({ haresources: 'cookbook\ncookbook IPaddr::\ncookbook Filesystem::/dev/sda1::/data::ext4 10.77.0.100/24/eth0\ncookbook docker::web\ncookbook2 10.77.0.101/24/eth0\ncookbook2 IPaddr::10.77.0.101/24/eth0\n' }),
    expect: {
      about: 'no resource, an empty IPaddr, an unknown agent, a container without an address, and one address in two groups',
      ok: false,
      codes: ['invalid-line', 'invalid-line', 'unknown-resource-agent', 'invalid-line', 'duplicate-group', 'duplicate-vip'],
      warnings: [USE_LOGD, WEAK],
    },
  },
  {
    name: 'hb-haresources-address-typo',
    files: hb({ haresources: 'cookbook 10.77.0.300/24/eth0:1\n' }),
    // Once reported as an unknown resource agent named "10.77.0.300/24/eth0:1"; now as a bad IPv4 address.
    expect: { about: 'a bare address with a typo in it (no IPaddr:: in front)', ok: false, codes: ['invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-haresources-bad-docker',
    files: hb({ haresources: 'cookbook 10.77.0.100/24/eth0 docker::\ncookbook 10.77.0.101/24/eth0 docker::web::explode\ncookbook 10.77.0.102/24/eth0 docker::a::start::stop::extra\ncookbook 10.77.0.103/24/eth0 docker::-web\ncookbook docker::db 10.77.0.104/24/eth0\ncookbook 10.77.0.105/24/eth0 docker::a docker::b\n' }),
    expect: {
      about: 'docker:: with no name, an unknown policy, a fourth part, a bad container name, a container before its address, two containers',
      ok: false,
      codes: ['invalid-line', 'invalid-value', 'invalid-line', 'invalid-value', 'invalid-line', 'invalid-line'],
      warnings: [USE_LOGD, WEAK],
    },
  },
  {
    name: 'hb-missing-haresources',
    files: hb({ haresources: null }),
    expect: { about: 'no haresources file in the directory', ok: false, codes: ['file-unreadable'], warnings: [USE_LOGD, WEAK] },
  },
  {
    name: 'hb-empty-files',
    files: { 'ha.cf': '', authkeys: '', haresources: '' },
    expect: { about: 'three empty files: no key and no auth line are one problem', ok: false, codes: ['no-node', 'no-path', 'send-key-missing'], warnings: ['auto-failback-default'] },
  },
  {
    name: 'hb-env-junk',
    files: hb({}),
    env: { HB_KEEPALIVE: 'fast', HB_UDPPORT: '70000', HB_AUTO_FAILBACK: 'maybe', HB_NODE: 'bad name!', HB_AUTH_SEND_KEY: '-1', HB_LOG_LEVEL: 'loud' },
    expect: { about: 'junk in six HB_* variables over the valid recipe', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'invalid-value'], warnings: [USE_LOGD, WEAK] },
  },
  { name: 'yaml-minimal', files: { [YAML_FILE]: MINIMAL_YAML }, expect: { about: 'the smallest valid native file', ok: true, warnings: [WEAK], hostname: 'alpha' } },
  {
    name: 'yaml-type-errors',
    files: { [YAML_FILE]: 'nodes: alpha\nudpport: [694]\nkeepalive: true\npaths: {ucast: {iface: eth0, peers: [10.77.0.12]}}\nauth: 5\n' },
    expect: { about: 'a string for a list, a list for a number, a boolean for a duration, a mapping for a list, a number for a mapping', ok: false, codes: ['wrong-type', 'invalid-value', 'invalid-value', 'wrong-type', 'wrong-type'], hostname: 'alpha' },
  },
  {
    name: 'yaml-unknown-keys',
    files: { [YAML_FILE]: `${MINIMAL_YAML}keepalive_ms: 100\ngroups:\n  - name: web\n    vip: [10.77.0.100/24/eth0]\n    vips: [10.77.0.100/24/eth0]\n__proto__: {node: evil}\nconstructor: 1\n` },
    expect: { about: 'a misspelt key, a misspelt key inside a group, and inherited property names', ok: false, codes: ['unknown-key', 'unknown-key', 'unknown-key', 'unknown-key'], hostname: 'alpha' },
  },
  {
    name: 'yaml-bad-values',
    files: {
      [YAML_FILE]: `${MINIMAL_YAML}udpport: 0\nkeepalive: 1ms\ndeadtime: 1.5 hours\nping_nodes: [10.0.0.256]\ngroups:\n  - name: web\n    preferred: gamma\n    vips: [fe80::1%eth0/64/eth0, {address: 10.77.0.100, prefix: 24, iface: eth0, label: wlan0:1}]\n    container: {name: web, on_acquire: explode}\n`,
    },
    expect: { about: 'port 0, a unit nobody knows, a bad ping node, a scoped VIP, a foreign label, an unknown acquire policy', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'invalid-value'], hostname: 'alpha' },
  },
  {
    name: 'yaml-keys',
    files: { [YAML_FILE]: 'nodes: [alpha, beta]\npaths: [{bcast: {iface: eth0}}]\nauth:\n  send_key: 3\n  keys:\n    - {id: 1, method: crc, secret: x}\n    - {id: 2, method: sha1}\n    - {id: 2, secret: a, secret_file: /nonexistent/heartbeat-sidecar-corpus/secret}\n' },
    expect: { about: 'crc with a secret, sha1 without one, both secret and secret_file (which does not exist)', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'file-unreadable'], hostname: 'alpha' },
  },
  {
    name: 'yaml-secret-file-missing',
    files: { [YAML_FILE]: 'nodes: [alpha, beta]\npaths: [{bcast: {iface: eth0}}]\nauth: {send_key: 1, keys: [{id: 1, secret_file: /nonexistent/heartbeat-sidecar-corpus/secret}]}\n' },
    expect: { about: 'a secret_file that does not exist', ok: false, codes: ['file-unreadable'], hostname: 'alpha' },
  },
  {
    name: 'yaml-bad-node-entries',
    files: { [YAML_FILE]: MINIMAL_YAML.replace('nodes: [alpha, beta]', 'nodes: [alpha, beta, -dash, 5, [gamma], {name: "bad name"}]') },
    expect: { about: 'a bad name written alone, a number, a list, and a bad name in a mapping', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'invalid-value'], hostname: 'alpha' },
  },
  {
    name: 'yaml-keys-not-names',
    files: { [YAML_FILE]: `${MINIMAL_YAML}? [a, b]\n: 1\n{a: 1}: x\nnull: y\napi:\n  ? [host]\n  : 127.0.0.1\n` },
    expect: { about: 'a list, a mapping and null as keys, at the top and inside api: each reported at its line', ok: false, codes: ['unknown-key', 'unknown-key', 'unknown-key', 'unknown-key'], hostname: 'alpha' },
  },
  {
    name: 'yaml-syntax-tab-indent',
    files: { [YAML_FILE]: 'nodes:\n\t- alpha\n' },
    expect: { about: 'a tab where YAML wants spaces', ok: false, codes: ['yaml-syntax'], hostname: 'alpha' },
  },
  {
    name: 'yaml-syntax-duplicate-key',
    files: { [YAML_FILE]: `${MINIMAL_YAML}nodes: [gamma]\n` },
    expect: { about: 'nodes given twice', ok: false, codes: ['yaml-syntax'], hostname: 'alpha' },
  },
  {
    name: 'yaml-syntax-unclosed',
    files: { [YAML_FILE]: 'nodes: [alpha, beta\npaths: {bcast: \n' },
    expect: { about: 'an unclosed flow sequence and mapping', ok: false, codes: ['yaml-syntax', 'yaml-syntax'], hostname: 'alpha' },
  },
  {
    name: 'yaml-not-a-mapping',
    files: { [YAML_FILE]: '- alpha\n- beta\n' },
    expect: { about: 'a list where the file must be a mapping', ok: false, codes: ['wrong-type'], hostname: 'alpha' },
  },
  {
    name: 'yaml-alias-bomb',
    files: { [YAML_FILE]: `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n` },
    expect: { about: 'nested aliases that would expand to 100,000 values', ok: false, codes: ['yaml-syntax'], hostname: 'alpha' },
  },
  {
    name: 'yaml-env-junk',
    files: { [YAML_FILE]: MINIMAL_YAML },
    env: { HB_API_PORT: 'x', HB_VIP_LEASE: '1.5', HB_GARP_BURST: '0', HB_DEADTIME: '100ms', HB_API_HOST: '   ' },
    expect: { about: 'junk in HB_* variables over a valid file, and a deadtime no longer above 2 × keepalive', ok: false, codes: ['invalid-value', 'invalid-value', 'invalid-value', 'invalid-value', 'deadtime-too-small', 'warntime-out-of-range'], hostname: 'alpha' },
  },
];

for (const w of WIRE) writeWireEntry(join(WIRE_DIR, `${w.name}.hex`), { about: w.about, expect: w.expect, keys: w.keys ?? RING, bytes: w.bytes });
for (const c of CONFIG) {
  const dir = join(CONFIG_DIR, c.name);
  // Replaced whole, so a file dropped from the table does not linger in the entry.
  rmSync(dir, { recursive: true, force: true });
  writeConfigEntry(dir, { files: Object.fromEntries(Object.entries(c.files).map(([n, t]) => [n, Buffer.from(t)])), env: c.env ?? {}, expect: c.expect });
}
process.stdout.write(`wrote ${WIRE.length} wire entries (keys ${formatKeys(RING)} unless stated) and ${CONFIG.length} config entries\n`);
