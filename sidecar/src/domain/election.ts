/**
 * Who decides each group's holder (docs/etcd.md): the heartbeat election, where every node runs
 * the same election over the views its peers send, or an election held in etcd, where the holder
 * is whoever owns the group's key under a live lease.
 */

export const ELECTIONS = ['heartbeat', 'etcd'] as const;
export type ElectionBackend = (typeof ELECTIONS)[number];

/**
 * What a holder does when it cannot renew its etcd lease before the fence (engine/fence.ts):
 * `release` lets go (never two holders; while etcd is unreachable from every node, nobody holds),
 * `keep` keeps what it holds, unfenced (available; another node that still reaches etcd may take
 * the group meanwhile, and then both hold until this one reaches etcd again).
 */
export const STORE_LOST_POLICIES = ['release', 'keep'] as const;
export type StoreLostPolicy = (typeof STORE_LOST_POLICIES)[number];

export interface EtcdTlsFiles {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

export type ElectionSpec =
  | { readonly backend: 'heartbeat' }
  | {
      readonly backend: 'etcd';
      /** Client URLs of the etcd members (http:// or https://). */
      readonly endpoints: readonly string[];
      /** Every key of this cluster lies under it; starts and ends with '/'. */
      readonly prefix: string;
      /** TTL of this node's lease, in whole seconds as etcd grants them. */
      readonly leaseTtlSec: number;
      readonly onStoreLost: StoreLostPolicy;
      /** null: no TLS files (http://, or https:// with the system's CAs). */
      readonly tls: EtcdTlsFiles | null;
    };

/** What a node publishes about itself in etcd (its node key, under its lease). */
export interface CandidateRecord {
  readonly priority: number;
  readonly healthy: boolean;
  readonly standby: boolean;
  readonly maintenance: boolean;
}

/** What etcd holds for one cluster, as last read or watched. */
export interface StoreView {
  /** Registered nodes: their node key exists, so their lease is alive. */
  readonly candidates: ReadonlyMap<string, CandidateRecord>;
  /** Each group's owner; a group missing here is vacant. */
  readonly holders: ReadonlyMap<string, string>;
  /** The lease each group's key lives under: a key with our name under another lease is not ours. */
  readonly holderLeases: ReadonlyMap<string, string>;
  /** The node of the latest takeover, its revision as the epoch; null when none was made. */
  readonly takeover: { readonly node: string; readonly epoch: number } | null;
}
