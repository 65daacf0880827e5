/** What one node tells the others in every datagram (docs/architecture.md, Wire format). */
import type { Claim } from '../domain/claims.js';

export type MessageType = 'heartbeat' | 'release' | 'takeover-request' | 'leave';

export interface GroupClaim {
  readonly group: string;
  readonly claim: Claim;
}

/** The last message this sender heard from one peer, echoed back so the peer can measure RTT. */
export interface Echo {
  readonly node: string;
  /** The peer's own `sentAtMs` from the newest message heard from it. */
  readonly sentAtMs: number;
  /** How long the sender held that timestamp before echoing it. */
  readonly heldMs: number;
}

export interface Message {
  readonly type: MessageType;
  readonly node: string;
  /** Boot generation: higher after every restart, so old datagrams cannot be replayed. */
  readonly generation: number;
  /** Per-sender, per-generation, strictly increasing. */
  readonly seq: number;
  /** Sender's monotonic clock in ms when sent. */
  readonly sentAtMs: number;
  readonly priority: number;
  /** Local health allows holding (container healthy, ping nodes reached). */
  readonly healthy: boolean;
  /** Operator asked this node to hold nothing while another node can. */
  readonly standby: boolean;
  /** Operator took this node out: it holds nothing, even alone. */
  readonly maintenance: boolean;
  /** Operator `takeover` count; the highest wins the election. */
  readonly takeoverEpoch: number;
  readonly groups: readonly GroupClaim[];
  /** Peers this sender currently hears, with RTT echoes. */
  readonly echoes: readonly Echo[];
}

export type RejectReason =
  | 'malformed'
  | 'badVersion'
  | 'unknownKey'
  | 'badAuth'
  | 'replay'
  | 'stale'
  | 'tooBig'
  | 'unknownNode'
  /** Signed with our key under our own name, but not our own broadcast heard back: a replay of our own datagrams, or another host configured with our name. */
  | 'ownNode';

export const REJECT_REASONS: readonly RejectReason[] = [
  'malformed',
  'badVersion',
  'unknownKey',
  'badAuth',
  'replay',
  'stale',
  'tooBig',
  'unknownNode',
  'ownNode',
];

export type DecodeResult =
  | { readonly ok: true; readonly message: Message; readonly keyId: number }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string };
