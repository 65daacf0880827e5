import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { AuthKey } from '../domain/auth.js';
import type { Claim } from '../domain/claims.js';
import { decode, encode, WireEncodeError } from './codec.js';
import type { WireEncodeErrorCode } from './codec.js';
import { largestHeartbeatBytes, MAX_DATAGRAM_BYTES } from '../domain/datagram.js';
import type { Message, MessageType } from './types.js';

const SHA256: AuthKey = { id: 1, method: 'sha256', secret: Buffer.from('golden-sha256-secret') };
/** The seed recipe's authkeys: `auth 1` / `1 sha1 <secret>`. */
const SHA1: AuthKey = { id: 1, method: 'sha1', secret: Buffer.from('cookbook-secret') };
const MD5: AuthKey = { id: 2, method: 'md5', secret: Buffer.from('golden-md5-secret') };
const CRC: AuthKey = { id: 15, method: 'crc', secret: Buffer.from('ignored') };

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

/**
 * The golden vectors. Each hex string is the datagram field by field; the MACs were checked
 * against Python's hmac and zlib.crc32. Any change of layout must fail here and bump WIRE_VERSION.
 */
const GOLDEN: readonly { name: string; key: AuthKey; message: Message; hex: string }[] = [
  {
    name: 'heartbeat, HMAC-SHA256',
    key: SHA256,
    message: HEARTBEAT,
    hex: [
      '48425343', // magic "HBSC"
      '01', // version
      '01', // type heartbeat
      '01', // key id 1
      '08' + '636f6f6b626f6f6b', // node "cookbook"
      '0000019361c32800', // generation 1732512000000
      '000000000000002a', // seq 42
      '00000000075bcd15', // sentAtMs 123456789
      '0064', // priority 100
      '01', // flags: healthy
      '00000003', // takeoverEpoch 3
      '01', // one group
      '0b' + '31302e37372e302e313030', // "10.77.0.100"
      '01', // held
      '01', // one echo
      '09' + '636f6f6b626f6f6b32', // "cookbook2"
      '00000000000f1206', // its sentAtMs 987654
      '0000000c', // heldMs 12
      '68b644e7246702580d5571a54cf172fefbd21221c06e712e7d80e84a1acf4f99', // HMAC-SHA256
    ].join(''),
  },
  {
    name: 'release, HMAC-SHA1 (authkeys sha1)',
    key: SHA1,
    message: {
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
    },
    hex: [
      '48425343', // magic
      '01', // version
      '02', // type release
      '01', // key id 1
      '09' + '636f6f6b626f6f6b32', // node "cookbook2"
      '0000019361c86e4e', // generation
      '0000000000000007', // seq 7
      '0000000000001388', // sentAtMs 5000
      '0000', // priority 0
      '03', // flags: healthy, standby
      '00000000', // takeoverEpoch 0
      '02', // two groups
      '03' + '776562' + '03', // "web" releasing
      '02' + '6462' + '00', // "db" none
      '00', // no echoes
      '1828c1e49ec059b655c5bda4ed60467ba44a4a58', // HMAC-SHA1
    ].join(''),
  },
  {
    name: 'takeover-request, HMAC-MD5 (authkeys md5), UTF-8 names and every field at its maximum',
    key: MD5,
    message: {
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
    },
    hex: [
      '48425343', // magic
      '01', // version
      '03', // type takeover-request
      '02', // key id 2
      '07' + '6ec59375642d31', // node "nœud-1": 6 characters, 7 bytes
      '0000000000000002', // generation 2
      '0000000000000001', // seq 1
      '0000000000000000', // sentAtMs 0
      'ffff', // priority 65535
      '04', // flags: maintenance
      'ffffffff', // takeoverEpoch 2^32-1
      '00', // no groups
      '01', // one echo
      '07' + '6772c3bcc39f65', // "grüße"
      '001fffffffffffff', // sentAtMs 2^53-1
      'ffffffff', // heldMs 2^32-1
      'b1c87377e12e6942368868f2c89fc6ba', // HMAC-MD5
    ].join(''),
  },
  {
    name: 'leave, crc (authkeys crc)',
    key: CRC,
    message: {
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
    },
    hex: [
      '48425343', // magic
      '01', // version
      '04', // type leave
      '0f', // key id 15
      '01' + '61', // node "a"
      '0000000000000001', // generation
      '0000000000000001', // seq
      '0000000000000001', // sentAtMs
      '0001', // priority
      '07', // flags: healthy, standby, maintenance
      '00000001', // takeoverEpoch
      '01', // one group
      '01' + '67' + '02', // "g" acquiring
      '00', // no echoes
      '8ba95b12', // CRC-32 of everything before it
    ].join(''),
  },
];

for (const g of GOLDEN) {
  test(`golden vector: ${g.name}`, () => {
    assert.equal(encode(g.message, g.key).toString('hex'), g.hex);
    assert.deepEqual(decode(Buffer.from(g.hex, 'hex'), [g.key]), { ok: true, message: g.message, keyId: g.key.id });
  });
}

/** Header for key SHA256 plus `body`, signed correctly: lets a test reach the body parser. */
function sealed(body: Buffer, typeCode = 1, key: AuthKey = SHA256): Buffer {
  const signed = Buffer.concat([Buffer.from('HBSC', 'latin1'), Buffer.from([1, typeCode, key.id]), body]);
  return Buffer.concat([signed, createHmac(key.method, key.secret).update(signed).digest()]);
}

/** The body of HEARTBEAT, as it sits between the header and the MAC. */
const HEARTBEAT_BODY = Buffer.from(GOLDEN[0]!.hex, 'hex').subarray(7, -32);

function rejection(bytes: Buffer, keys: readonly AuthKey[] = [SHA256]): { reason: string; detail: string } {
  const result = decode(bytes, keys);
  assert.equal(result.ok, false, 'expected a rejection');
  return result.ok ? { reason: 'ok', detail: '' } : { reason: result.reason, detail: result.detail };
}

function withByte(bytes: Buffer, offset: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = value;
  return copy;
}

test('sealed() reproduces the golden vector, so the crafted inputs below differ only where they say', () => {
  assert.equal(sealed(HEARTBEAT_BODY).toString('hex'), GOLDEN[0]!.hex);
});

test('tooBig: more than 1400 bytes is refused before anything else is looked at', () => {
  const big = Buffer.concat([Buffer.from(GOLDEN[0]!.hex, 'hex'), Buffer.alloc(MAX_DATAGRAM_BYTES)]).subarray(0, MAX_DATAGRAM_BYTES + 1);
  assert.equal(rejection(big).reason, 'tooBig');
});

test('malformed: shorter than the header, bad magic, or too short to hold the MAC', () => {
  assert.equal(rejection(Buffer.alloc(0)).reason, 'malformed');
  assert.equal(rejection(Buffer.from('48425343010101', 'hex').subarray(0, 6)).reason, 'malformed');
  // Linux-HA Heartbeat's own text packets start ">>>\n"; they are not ours to parse.
  assert.match(rejection(Buffer.from('>>>\nt=status\nst=active\n<<<\n')).detail, /magic/);
  assert.match(rejection(Buffer.from('48425343010101' + 'ab'.repeat(31), 'hex')).detail, /too short for a sha256 MAC/);
});

test('badVersion: a newer format is named as such, whatever follows the version byte', () => {
  const r = rejection(withByte(Buffer.from(GOLDEN[0]!.hex, 'hex'), 4, 2));
  assert.equal(r.reason, 'badVersion');
  assert.match(r.detail, /version 2/);
  assert.equal(rejection(Buffer.from('48425343020000', 'hex')).reason, 'badVersion');
});

test('unknownKey: a key id this node does not accept', () => {
  const r = rejection(Buffer.from(GOLDEN[0]!.hex, 'hex'), [MD5]);
  assert.deepEqual(r, { reason: 'unknownKey', detail: 'key id 1 is not accepted here' });
  assert.equal(rejection(Buffer.from(GOLDEN[0]!.hex, 'hex'), []).reason, 'unknownKey');
});

test('badAuth: the right key id with another secret or another method', () => {
  assert.equal(rejection(Buffer.from(GOLDEN[0]!.hex, 'hex'), [{ ...SHA256, secret: Buffer.from('other') }]).reason, 'badAuth');
  // The key id selects the method: sha1 under id 1 reads the last 20 bytes as the MAC, and they do not match.
  assert.equal(rejection(Buffer.from(GOLDEN[0]!.hex, 'hex'), [SHA1]).reason, 'badAuth');
});

test('the MAC is checked before the body: garbage under a wrong MAC is badAuth, not malformed', () => {
  const garbage = Buffer.concat([Buffer.from('48425343010901', 'hex'), Buffer.alloc(40, 0xff)]);
  assert.equal(rejection(garbage).reason, 'badAuth');
});

test('malformed, even under a valid MAC: every way the body can be wrong', () => {
  const cases: { name: string; bytes: Buffer; detail: RegExp }[] = [
    { name: 'type 0', bytes: sealed(HEARTBEAT_BODY, 0), detail: /unknown message type 0/ },
    { name: 'type 5', bytes: sealed(HEARTBEAT_BODY, 5), detail: /unknown message type 5/ },
    { name: 'truncated in the echo', bytes: sealed(HEARTBEAT_BODY.subarray(0, -1)), detail: /truncated in echo heldMs/ },
    { name: 'empty body', bytes: sealed(Buffer.alloc(0)), detail: /truncated in node/ },
    { name: 'a trailing byte', bytes: sealed(Buffer.concat([HEARTBEAT_BODY, Buffer.from([0])])), detail: /1 trailing bytes/ },
    // Offsets in the body: node 0..8, generation 9, seq 17, sentAtMs 25, priority 33, flags 35, epoch 36, group count 40, group id 41..52, claim 53, echo count 54.
    { name: 'an unknown flag bit', bytes: sealed(withByte(HEARTBEAT_BODY, 35, 0x09)), detail: /unknown flag bits 0x9/ },
    { name: 'an unknown claim', bytes: sealed(withByte(HEARTBEAT_BODY, 53, 4)), detail: /unknown claim 4/ },
    { name: 'a u64 beyond 2^53-1', bytes: sealed(withByte(HEARTBEAT_BODY, 9 + 1, 0x20)), detail: /generation .* beyond 2\^53-1/ },
    { name: 'a count larger than what follows', bytes: sealed(withByte(HEARTBEAT_BODY, 54, 2)), detail: /truncated in echo node/ },
    { name: 'a string longer than the datagram', bytes: sealed(withByte(HEARTBEAT_BODY, 0, 200)), detail: /truncated in node/ },
    { name: 'a stray 0xff in UTF-8', bytes: sealed(withByte(HEARTBEAT_BODY, 1, 0xff)), detail: /node is not valid UTF-8/ },
    { name: 'an overlong UTF-8 NUL', bytes: sealed(Buffer.concat([Buffer.from([2, 0xc0, 0x80]), HEARTBEAT_BODY.subarray(9)])), detail: /not valid UTF-8/ },
    { name: 'a UTF-8 encoded surrogate', bytes: sealed(Buffer.concat([Buffer.from([3, 0xed, 0xa0, 0x80]), HEARTBEAT_BODY.subarray(9)])), detail: /not valid UTF-8/ },
  ];
  for (const c of cases) {
    const r = rejection(c.bytes);
    assert.equal(r.reason, 'malformed', c.name);
    assert.match(r.detail, c.detail, c.name);
  }
});

test('a flipped bit anywhere is rejected, under every method', () => {
  for (const g of GOLDEN) {
    const good = Buffer.from(g.hex, 'hex');
    for (let bit = 0; bit < good.length * 8; bit++) {
      const bad = withByte(good, bit >> 3, good[bit >> 3]! ^ (1 << (bit & 7)));
      const byte = bit >> 3;
      const expected = byte < 4 ? 'malformed' : byte === 4 ? 'badVersion' : byte === 6 ? 'unknownKey' : 'badAuth';
      assert.equal(rejection(bad, [g.key]).reason, expected, `${g.name}: bit ${bit}`);
    }
  }
});

test('key rotation: every accepted key verifies, and the result says which one signed', () => {
  const keys = [SHA256, MD5];
  const old = decode(encode(HEARTBEAT, SHA256), keys);
  const fresh = decode(encode(HEARTBEAT, MD5), keys);
  assert.ok(old.ok && fresh.ok);
  assert.equal(old.keyId, 1);
  assert.equal(fresh.keyId, 2);
});

test('times are sent as whole milliseconds, because the monotonic clock has a fraction', () => {
  const r = decode(encode({ ...HEARTBEAT, sentAtMs: 1234.9, echoes: [{ node: 'b', sentAtMs: 10.5, heldMs: 3.99 }] }, SHA256), [SHA256]);
  assert.ok(r.ok);
  assert.equal(r.message.sentAtMs, 1234);
  assert.deepEqual(r.message.echoes, [{ node: 'b', sentAtMs: 10, heldMs: 3 }]);
});

function encodeError(message: Message, key: AuthKey = SHA256): WireEncodeErrorCode {
  try {
    encode(message, key);
  } catch (err) {
    assert.ok(err instanceof WireEncodeError, `not a WireEncodeError: ${String(err)}`);
    assert.equal(err.name, 'WireEncodeError');
    return err.code;
  }
  return assert.fail('encode did not throw');
}

test('strings: 255 bytes of UTF-8 fit, 256 do not, counted in bytes not characters', () => {
  const r = decode(encode({ ...HEARTBEAT, node: 'é'.repeat(127) + 'x' }, SHA256), [SHA256]);
  assert.ok(r.ok);
  assert.equal(r.message.node, 'é'.repeat(127) + 'x');
  assert.equal(encodeError({ ...HEARTBEAT, node: 'é'.repeat(128) }), 'HB_WIRE_STRING_TOO_LONG');
  assert.equal(encodeError({ ...HEARTBEAT, groups: [{ group: 'x'.repeat(256), claim: 'held' }] }), 'HB_WIRE_STRING_TOO_LONG');
  assert.equal(encodeError({ ...HEARTBEAT, node: 'bad\uD800' }), 'HB_WIRE_BAD_STRING');
});

test('size: a datagram of exactly 1400 bytes is sent, one byte more is HB_WIRE_TOO_BIG', () => {
  // HEARTBEAT is 116 bytes, each group with a 255-byte id adds 257 and one with a 254-byte id 256:
  // 116 + 4 × 257 + 256 = 1400.
  const full = (node: string): Message => ({
    ...HEARTBEAT,
    node,
    groups: [...HEARTBEAT.groups, ...['a', 'b', 'c', 'd'].map((c) => ({ group: c.repeat(255), claim: 'none' as const })), { group: 'e'.repeat(254), claim: 'none' as const }],
  });
  const exact = encode(full('cookbook'), SHA256);
  assert.equal(exact.length, MAX_DATAGRAM_BYTES);
  assert.ok(decode(exact, [SHA256]).ok);
  assert.equal(encodeError(full('cookbook!')), 'HB_WIRE_TOO_BIG');
  // The crc check value is 28 bytes shorter than an HMAC-SHA256, which leaves the body that much more room.
  assert.equal(encode(full('cookbook' + 'x'.repeat(28)), CRC).length, MAX_DATAGRAM_BYTES);
  assert.equal(encodeError(full('cookbook' + 'x'.repeat(29)), CRC), 'HB_WIRE_TOO_BIG');
});

test('numbers that do not fit their field are refused, not wrapped', () => {
  assert.equal(encodeError({ ...HEARTBEAT, priority: 65_536 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, priority: -1 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, seq: 1.5 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, generation: Number.MAX_SAFE_INTEGER + 1 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, takeoverEpoch: 2 ** 32 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, sentAtMs: Number.NaN }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError(HEARTBEAT, { ...SHA256, id: 256 }), 'HB_WIRE_OUT_OF_RANGE');
  assert.equal(encodeError({ ...HEARTBEAT, echoes: Array.from({ length: 256 }, () => ({ node: '', sentAtMs: 0, heldMs: 0 })) }), 'HB_WIRE_OUT_OF_RANGE');
});

const KEYS = [SHA256, SHA1, MD5, CRC].map((k, i) => ({ ...k, id: i + 1 }));

/** Short strings keep any generated message under 1400 bytes: ≤ 20 code points is ≤ 80 bytes. */
const name = fc.string({ unit: 'binary', maxLength: 20 });
/** decode builds ordinary objects; fast-check would otherwise also try null-prototype ones. */
const PLAIN = { noNullPrototype: true };
const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const messageArb: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom<MessageType>('heartbeat', 'release', 'takeover-request', 'leave'),
  node: name,
  generation: u64,
  seq: u64,
  sentAtMs: u64,
  priority: fc.integer({ min: 0, max: 0xffff }),
  healthy: fc.boolean(),
  standby: fc.boolean(),
  maintenance: fc.boolean(),
  takeoverEpoch: u32,
  groups: fc.array(fc.record({ group: name, claim: fc.constantFrom<Claim>('none', 'held', 'acquiring', 'releasing') }, PLAIN), { maxLength: 6 }),
  echoes: fc.array(fc.record({ node: name, sentAtMs: u64, heldMs: u32 }, PLAIN), { maxLength: 6 }),
}, PLAIN);

test('property: encode then decode is the identity on valid messages, under every method', () => {
  fc.assert(
    fc.property(messageArb, fc.constantFrom(...KEYS), (message, key) => {
      assert.deepEqual(decode(encode(message, key), KEYS), { ok: true, message, keyId: key.id });
    }),
    { numRuns: 500 },
  );
});

test('property: the size the configuration checks (domain/datagram.ts) is the size encode writes', () => {
  fc.assert(
    fc.property(messageArb, fc.constantFrom(...KEYS), (message, key) => {
      const predicted = largestHeartbeatBytes(message.node, message.groups.map((g) => g.group), message.echoes.map((e) => e.node), key.method);
      assert.equal(encode(message, key).length, predicted);
    }),
    { numRuns: 500 },
  );
});

function neverThrows(bytes: Buffer): void {
  const result = decode(bytes, KEYS);
  assert.equal(typeof result.ok, 'boolean');
}

test('property: decode never throws on arbitrary bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 1500 }), (b) => neverThrows(Buffer.from(b))), { numRuns: 2000 });
});

test('property: decode never throws on arbitrary bodies behind a valid header and MAC', () => {
  // Random bytes almost never pass the MAC; signing them is what exercises the body parser.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (body, type) => {
      const result = decode(sealed(Buffer.from(body), type, KEYS[0]), KEYS);
      assert.ok(result.ok || result.reason === 'malformed', JSON.stringify(result));
    }),
    { numRuns: 2000 },
  );
});

test('property: decode never throws on valid datagrams with bytes changed, cut or added', () => {
  fc.assert(
    fc.property(
      messageArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 8 }),
      (message, edits, cut, extra) => {
        const bytes = Buffer.from(encode(message, KEYS[0]!));
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        neverThrows(Buffer.concat([bytes.subarray(0, bytes.length - (cut % bytes.length)), Buffer.from(extra)]));
      },
    ),
    { numRuns: 1000 },
  );
});
