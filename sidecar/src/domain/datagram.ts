/**
 * What one heartbeat datagram can hold, shared by the wire format (wire/codec.ts) and the
 * configuration, which must refuse a cluster whose heartbeat would not fit rather than let the
 * daemon start and fail on its first send.
 */
import type { AuthMethod } from './auth.js';

/** The largest datagram sent or accepted: under any path's MTU, so never fragmented. */
export const MAX_DATAGRAM_BYTES = 1400;

/** The MAC each method appends: sha256 32, sha1 20, md5 16, crc 4. */
export const MAC_BYTES: Readonly<Record<AuthMethod, number>> = { sha256: 32, sha1: 20, md5: 16, crc: 4 };

/**
 * The size of the largest heartbeat `node` sends (wire version 1, docs/architecture.md, Wire
 * format): the header and fixed fields, every group with its claim, an echo of every peer, and
 * the MAC. `wire/codec.test.ts` checks it against what `encode` writes.
 */
export function largestHeartbeatBytes(node: string, groups: readonly string[], peers: readonly string[], method: AuthMethod): number {
  const str = (s: string) => 1 + Buffer.byteLength(s, 'utf8');
  const fixed = 7 + str(node) + 8 + 8 + 8 + 2 + 1 + 4;
  const claims = 1 + groups.reduce((n, g) => n + str(g) + 1, 0);
  const echoes = 1 + peers.reduce((n, p) => n + str(p) + 8 + 4, 0);
  return fixed + claims + echoes + MAC_BYTES[method];
}
