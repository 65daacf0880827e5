/**
 * The native wire format (docs/architecture.md, Wire format): one message per UDP datagram, binary, versioned and
 * authenticated. Version 1 layout; integers are big-endian (network byte order); `str` is a
 * u8 byte length followed by that many bytes of UTF-8.
 *
 * | offset | size  | field                                                                    |
 * |--------|-------|--------------------------------------------------------------------------|
 * | 0      | 4     | magic `HBSC` (48 42 53 43)                                               |
 * | 4      | 1     | version, 1                                                               |
 * | 5      | 1     | type: 1 heartbeat, 2 release, 3 takeover-request, 4 leave                |
 * | 6      | 1     | key id (the authkeys `N`) that selects the MAC method and secret         |
 * | 7      | 1+n   | node: str, the sender                                                    |
 * | +0     | 8     | generation u64 (boot generation)                                         |
 * | +8     | 8     | seq u64                                                                  |
 * | +16    | 8     | sentAtMs u64 (sender's monotonic clock, whole ms)                        |
 * | +24    | 2     | priority u16                                                             |
 * | +26    | 1     | flags: bit 0 healthy, bit 1 standby, bit 2 maintenance; bits 3–7 zero    |
 * | +27    | 4     | takeoverEpoch u32                                                        |
 * | +31    | 1     | group count G                                                            |
 * |        | G ×   | group id: str, then claim u8: 0 none, 1 held, 2 acquiring, 3 releasing   |
 * |        | 1     | echo count E                                                             |
 * |        | E ×   | node: str, then sentAtMs u64, then heldMs u32                            |
 * | end−m  | m     | MAC over every byte before it: sha256 32, sha1 20, md5 16, crc 4         |
 *
 * Magic and version sit at fixed offsets in every version, so any receiver can answer
 * `badVersion` rather than `malformed` when a newer peer speaks. u64 fields carry JavaScript
 * safe integers (≤ 2^53−1); a larger value is `malformed` because a `number` cannot hold it.
 *
 * Encode errors (`WireEncodeError.code`):
 * - `HB_WIRE_TOO_BIG`: the datagram would exceed MAX_DATAGRAM_BYTES;
 * - `HB_WIRE_STRING_TOO_LONG`: a string is over 255 bytes of UTF-8;
 * - `HB_WIRE_BAD_STRING`: a string holds an unpaired surrogate, which UTF-8 cannot carry;
 * - `HB_WIRE_OUT_OF_RANGE`: a number does not fit its field, or a list has over 255 entries.
 */
import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import type { AuthKey, AuthMethod } from '../domain/auth.js';
import type { Claim } from '../domain/claims.js';
import { MAC_BYTES, MAX_DATAGRAM_BYTES } from '../domain/datagram.js';
import { hmac } from './hmac.js';
import type { DecodeResult, Message, MessageType, RejectReason } from './types.js';

export const WIRE_VERSION = 1;
const MAGIC = Buffer.from('HBSC', 'latin1');
/** Magic, version, type and key id. */
const HEADER_BYTES = 7;
const MAX_STRING_BYTES = 255;
const MAX_LIST_ENTRIES = 255;

// Code 0 is left unused in both tables so that zeroed memory never decodes as a valid value.
const TYPE_CODES: Readonly<Record<MessageType, number>> = { heartbeat: 1, release: 2, 'takeover-request': 3, leave: 4 };
const CLAIM_CODES: Readonly<Record<Claim, number>> = { none: 0, held: 1, acquiring: 2, releasing: 3 };
const TYPES_BY_CODE = invert(TYPE_CODES);
const CLAIMS_BY_CODE = invert(CLAIM_CODES);

const FLAG_HEALTHY = 0b001;
const FLAG_STANDBY = 0b010;
const FLAG_MAINTENANCE = 0b100;
/** Unknown flag bits are rejected, not ignored: a new flag needs a new version, which old peers refuse loudly. */
const KNOWN_FLAGS = FLAG_HEALTHY | FLAG_STANDBY | FLAG_MAINTENANCE;

/**
 * Heartbeat's authkeys methods, plus the native sha256. Every hash is used as an HMAC
 * (RFC 2104), never as hash(secret + data), which length extension would defeat. crc ignores
 * the secret: it detects corruption and authenticates nothing, which is why Heartbeat reserves
 * it for links nobody else can reach.
 */
const MACS: Readonly<Record<AuthMethod, { readonly bytes: number; readonly compute: (data: Buffer, secret: Buffer) => Buffer }>> = {
  sha256: { bytes: MAC_BYTES.sha256, compute: (data, secret) => hmac('sha256', secret, data) },
  sha1: { bytes: MAC_BYTES.sha1, compute: (data, secret) => hmac('sha1', secret, data) },
  md5: { bytes: MAC_BYTES.md5, compute: (data, secret) => hmac('md5', secret, data) },
  crc: { bytes: MAC_BYTES.crc, compute: (data) => crc32(data) },
};

export type WireEncodeErrorCode = 'HB_WIRE_TOO_BIG' | 'HB_WIRE_STRING_TOO_LONG' | 'HB_WIRE_BAD_STRING' | 'HB_WIRE_OUT_OF_RANGE';

/** A message that cannot be put on the wire: a caller's bug or a config the wire cannot carry. */
export class WireEncodeError extends Error {
  constructor(
    readonly code: WireEncodeErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WireEncodeError';
  }
}

/**
 * Serialises and signs one message under `key`. Times are truncated to whole milliseconds,
 * because the daemon's monotonic clock (`performance.now()`) has a fractional part.
 * Throws WireEncodeError when the message does not fit the format.
 */
export function encode(message: Message, key: AuthKey): Buffer {
  const mac = MACS[key.method];
  const w = new Writer(MAX_DATAGRAM_BYTES - mac.bytes);
  w.bytes(MAGIC);
  w.u8(WIRE_VERSION, 'version');
  w.u8(TYPE_CODES[message.type], 'type');
  w.u8(key.id, 'key id');
  w.str(message.node, 'node');
  w.u64(message.generation, 'generation');
  w.u64(message.seq, 'seq');
  w.u64(Math.floor(message.sentAtMs), 'sentAtMs');
  w.u16(message.priority, 'priority');
  w.u8((message.healthy ? FLAG_HEALTHY : 0) | (message.standby ? FLAG_STANDBY : 0) | (message.maintenance ? FLAG_MAINTENANCE : 0), 'flags');
  w.u32(message.takeoverEpoch, 'takeoverEpoch');
  w.count(message.groups.length, 'groups');
  for (const g of message.groups) {
    w.str(g.group, 'group id');
    w.u8(CLAIM_CODES[g.claim], 'claim');
  }
  w.count(message.echoes.length, 'echoes');
  for (const e of message.echoes) {
    w.str(e.node, 'echo node');
    w.u64(Math.floor(e.sentAtMs), 'echo sentAtMs');
    w.u32(Math.floor(e.heldMs), 'echo heldMs');
  }
  const signed = w.finish(mac.bytes);
  return Buffer.concat([signed, mac.compute(signed, key.secret)]);
}

/**
 * Checks and parses one datagram; never throws. The order matters: size, header, version and
 * key come first, and the MAC is verified before any body field is read, so unauthenticated
 * bytes never reach the parser.
 */
export function decode(bytes: Buffer, keys: readonly AuthKey[]): DecodeResult {
  if (bytes.length > MAX_DATAGRAM_BYTES) return reject('tooBig', `${bytes.length} bytes, the limit is ${MAX_DATAGRAM_BYTES}`);
  if (bytes.length < HEADER_BYTES) return reject('malformed', `${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return reject('malformed', 'bad magic');
  const version = bytes[4]!;
  if (version !== WIRE_VERSION) return reject('badVersion', `version ${version}, this node speaks ${WIRE_VERSION}`);
  const keyId = bytes[6]!;
  const key = keys.find((k) => k.id === keyId);
  if (key === undefined) return reject('unknownKey', `key id ${keyId} is not accepted here`);
  const mac = MACS[key.method];
  const macAt = bytes.length - mac.bytes;
  if (macAt < HEADER_BYTES) return reject('malformed', `${bytes.length} bytes, too short for a ${key.method} MAC`);
  const signed = bytes.subarray(0, macAt);
  if (!timingSafeEqual(bytes.subarray(macAt), mac.compute(signed, key.secret))) return reject('badAuth', `${key.method} MAC does not match key id ${keyId}`);
  try {
    return { ok: true, message: parseBody(new Reader(signed, HEADER_BYTES), bytes[5]!), keyId };
  } catch (err) {
    if (err instanceof Malformed) return reject('malformed', err.message);
    throw err;
  }
}

function parseBody(r: Reader, typeCode: number): Message {
  const type = TYPES_BY_CODE.get(typeCode);
  if (type === undefined) throw new Malformed(`unknown message type ${typeCode}`);
  const node = r.str('node');
  const generation = r.u64('generation');
  const seq = r.u64('seq');
  const sentAtMs = r.u64('sentAtMs');
  const priority = r.u16('priority');
  const flags = r.u8('flags');
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new Malformed(`unknown flag bits 0x${flags.toString(16)}`);
  const takeoverEpoch = r.u32('takeoverEpoch');
  const groups = Array.from({ length: r.u8('group count') }, () => {
    const group = r.str('group id');
    const code = r.u8('claim');
    const claim = CLAIMS_BY_CODE.get(code);
    if (claim === undefined) throw new Malformed(`unknown claim ${code} for group ${JSON.stringify(group)}`);
    return { group, claim };
  });
  const echoes = Array.from({ length: r.u8('echo count') }, () => ({ node: r.str('echo node'), sentAtMs: r.u64('echo sentAtMs'), heldMs: r.u32('echo heldMs') }));
  r.end();
  return {
    type,
    node,
    generation,
    seq,
    sentAtMs,
    priority,
    healthy: (flags & FLAG_HEALTHY) !== 0,
    standby: (flags & FLAG_STANDBY) !== 0,
    maintenance: (flags & FLAG_MAINTENANCE) !== 0,
    takeoverEpoch,
    groups,
    echoes,
  };
}

function reject(reason: RejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}

/**
 * Writes fields in order into a buffer of `capacity` bytes. Past the capacity it keeps counting
 * without writing, so the TOO_BIG error can say how large the message would have been.
 */
class Writer {
  private readonly buf: Buffer;
  private offset = 0;

  constructor(private readonly capacity: number) {
    this.buf = Buffer.alloc(capacity);
  }

  bytes(b: Buffer): void {
    if (this.fits(b.length)) b.copy(this.buf, this.offset);
    this.offset += b.length;
  }

  u8(n: number, field: string): void {
    this.check(n, 0xff, field);
    if (this.fits(1)) this.buf.writeUInt8(n, this.offset);
    this.offset += 1;
  }

  u16(n: number, field: string): void {
    this.check(n, 0xffff, field);
    if (this.fits(2)) this.buf.writeUInt16BE(n, this.offset);
    this.offset += 2;
  }

  u32(n: number, field: string): void {
    this.check(n, 0xffff_ffff, field);
    if (this.fits(4)) this.buf.writeUInt32BE(n, this.offset);
    this.offset += 4;
  }

  u64(n: number, field: string): void {
    this.check(n, Number.MAX_SAFE_INTEGER, field);
    if (this.fits(8)) this.buf.writeBigUInt64BE(BigInt(n), this.offset);
    this.offset += 8;
  }

  count(n: number, list: string): void {
    if (n > MAX_LIST_ENTRIES) throw new WireEncodeError('HB_WIRE_OUT_OF_RANGE', `${list} has ${n} entries, the limit is ${MAX_LIST_ENTRIES}`);
    this.u8(n, `${list} count`);
  }

  str(s: string, field: string): void {
    // In a /u regex an unpaired surrogate is a lone code point of category Cs; a pair is not.
    if (/\p{Cs}/u.test(s)) throw new WireEncodeError('HB_WIRE_BAD_STRING', `${field} ${JSON.stringify(s)} has an unpaired surrogate`);
    const utf8 = Buffer.from(s, 'utf8');
    if (utf8.length > MAX_STRING_BYTES) {
      throw new WireEncodeError('HB_WIRE_STRING_TOO_LONG', `${field} is ${utf8.length} bytes of UTF-8, the limit is ${MAX_STRING_BYTES}`);
    }
    this.u8(utf8.length, field);
    this.bytes(utf8);
  }

  /** The bytes written, once the MAC of `macBytes` is known to fit after them. */
  finish(macBytes: number): Buffer {
    if (this.offset > this.capacity) {
      throw new WireEncodeError('HB_WIRE_TOO_BIG', `message is ${this.offset + macBytes} bytes with its MAC, the limit is ${MAX_DATAGRAM_BYTES}`);
    }
    return this.buf.subarray(0, this.offset);
  }

  private fits(n: number): boolean {
    return this.offset + n <= this.capacity;
  }

  private check(n: number, max: number, field: string): void {
    if (!Number.isInteger(n) || n < 0 || n > max) throw new WireEncodeError('HB_WIRE_OUT_OF_RANGE', `${field} ${n} is not an integer in 0..${max}`);
  }
}

/** Thrown only inside decode, and turned into `{ ok: false, reason: 'malformed' }` there. */
class Malformed extends Error {
  override readonly name = 'Malformed';
}

/** Reads fields in order from authenticated bytes; any shortfall or invalid value is Malformed. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    private offset: number,
  ) {}

  u8(field: string): number {
    return this.buf.readUInt8(this.take(1, field));
  }

  u16(field: string): number {
    return this.buf.readUInt16BE(this.take(2, field));
  }

  u32(field: string): number {
    return this.buf.readUInt32BE(this.take(4, field));
  }

  u64(field: string): number {
    const n = this.buf.readBigUInt64BE(this.take(8, field));
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`${field} ${n} is beyond 2^53-1`);
    return Number(n);
  }

  str(field: string): string {
    const length = this.u8(field);
    const at = this.take(length, field);
    const utf8 = this.buf.subarray(at, at + length);
    if (!isUtf8(utf8)) throw new Malformed(`${field} is not valid UTF-8`);
    return utf8.toString('utf8');
  }

  end(): void {
    if (this.offset !== this.buf.length) throw new Malformed(`${this.buf.length - this.offset} trailing bytes after the body`);
  }

  private take(n: number, field: string): number {
    if (this.offset + n > this.buf.length) throw new Malformed(`truncated in ${field}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }
}

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib and Ethernet compute it; 4 bytes big-endian. */
function crc32(data: Buffer): Buffer {
  let crc = 0xffff_ffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffff_ffff) >>> 0);
  return out;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function invert<K extends string>(codes: Readonly<Record<K, number>>): ReadonlyMap<number, K> {
  return new Map(Object.entries(codes).map(([name, code]) => [code as number, name as K]));
}
