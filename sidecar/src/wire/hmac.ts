/**
 * HMAC (RFC 2104) from two one-shot hashes, with the key's pads computed once per key.
 *
 * `createHmac` builds a stream object per call; on an idle daemon that runs its code in the
 * baseline tier and computes one MAC per datagram sent or received, that construction was most
 * of the cost of authenticating (8.6 % of the daemon's CPU samples), where two `crypto.hash`
 * calls are a pair of native calls. The result is byte for byte `createHmac`'s (hmac.test.ts).
 */
import { hash } from 'node:crypto';

export type HmacHash = 'sha256' | 'sha1' | 'md5';

/** SHA-256, SHA-1 and MD5 all work on 64-byte blocks. */
const BLOCK_BYTES = 64;

interface Pads {
  readonly inner: Buffer;
  readonly outer: Buffer;
}

/** Per hash, per key object: keys live as long as the config that holds them. */
const padsByKey: Record<HmacHash, WeakMap<Buffer, Pads>> = { sha256: new WeakMap(), sha1: new WeakMap(), md5: new WeakMap() };

function padsOf(algorithm: HmacHash, secret: Buffer): Pads {
  const known = padsByKey[algorithm].get(secret);
  if (known !== undefined) return known;
  // A key longer than a block is replaced by its hash; a shorter one is padded with zeros.
  const key = secret.length > BLOCK_BYTES ? hash(algorithm, secret, 'buffer') : secret;
  const inner = Buffer.alloc(BLOCK_BYTES, 0x36);
  const outer = Buffer.alloc(BLOCK_BYTES, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i]! ^= key[i]!;
    outer[i]! ^= key[i]!;
  }
  const pads = { inner, outer };
  padsByKey[algorithm].set(secret, pads);
  return pads;
}

export function hmac(algorithm: HmacHash, secret: Buffer, data: Buffer): Buffer {
  const { inner, outer } = padsOf(algorithm, secret);
  const innerDigest = hash(algorithm, Buffer.concat([inner, data]), 'buffer');
  return hash(algorithm, Buffer.concat([outer, innerDigest]), 'buffer');
}
