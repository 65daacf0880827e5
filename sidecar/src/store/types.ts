/**
 * The port to the consistent store the etcd election runs on (docs/etcd.md): what the daemon
 * (daemon/quorum.ts) needs and nothing of etcd's client. etcd.ts implements it; unit tests use an
 * in-memory one with the same rules (one owner per group key, keys die with their lease).
 */
import type { CandidateRecord, StoreView } from '../domain/election.js';

export interface ElectionStore {
  /** A new lease of `ttlSec`; resolves with its id once etcd granted it. */
  grant(ttlSec: number): Promise<string>;
  /** One keepalive: resolves with the TTL etcd restarted, 0 when the lease no longer exists. */
  keepalive(leaseId: string): Promise<number>;
  /** Ends the lease at once: every key under it goes. */
  revoke(leaseId: string): Promise<void>;
  /** Every key of the cluster, read at one revision. */
  read(): Promise<StoreView>;
  /** Publishes this node's candidacy under the lease (created or replaced). */
  register(leaseId: string, node: string, record: CandidateRecord): Promise<void>;
  /** Creates the group's key for `node` under the lease if it does not exist: whether it did. */
  claim(leaseId: string, group: string, node: string): Promise<boolean>;
  /** Deletes the group's key if it is under this lease (ours); someone else's is left alone. */
  resign(leaseId: string, group: string): Promise<void>;
  /** Records a takeover by `node`; its revision outranks every earlier one. */
  takeover(node: string): Promise<void>;
  /**
   * Calls `onChange` whenever something under the prefix changed, or changes may have been missed
   * (a watch reconnected): a cue to read() again, never the change itself.
   */
  watch(onChange: () => void): void;
  close(): void;
}
