import type { Claim } from '../domain/claims.js';
import type { PeerLiveness } from '../domain/peers.js';

/** Heartbeat's `cl_status rscstatus` words. */
export type RscStatus = 'none' | 'local' | 'foreign' | 'all' | 'transition';

export type Role = 'initdead' | 'active' | 'standby' | 'stopping';

export interface PathStatus {
  readonly path: string;
  readonly state: PeerLiveness;
  readonly lastHeardAgoMs: number | null;
}

export interface PeerStatus {
  readonly node: string;
  readonly state: PeerLiveness;
  readonly lastHeardAgoMs: number | null;
  readonly rttMs: number | null;
  readonly generation: number | null;
  readonly healthy: boolean | null;
  readonly standby: boolean | null;
  readonly maintenance: boolean | null;
  readonly paths: readonly PathStatus[];
}

export interface GroupStatus {
  readonly id: string;
  readonly preferred: string | null;
  /** The node that holds it as far as this node can tell; null when nobody does. */
  readonly holder: string | null;
  readonly localClaim: Claim;
  readonly vips: readonly { readonly address: string; readonly present: boolean }[];
}

export interface TransitionRecord {
  readonly group: string;
  readonly from: Claim;
  readonly to: Claim;
  readonly reason: string;
  /** Wall-clock time, ISO 8601. */
  readonly at: string;
}

/** A protected container as this node's Docker last reported it. */
export interface ContainerStatus {
  readonly group: string;
  /** The container or Compose service name from the config. */
  readonly name: string;
  /** Whether this host's Docker answers; null before it was first asked. */
  readonly dockerUp: boolean | null;
  readonly dockerError: string | null;
  /** Docker's last word on the container (running, paused, exited, missing...); null before the first. */
  readonly state: string | null;
  /** Its HEALTHCHECK verdict (healthy, unhealthy, starting, none); null before the first inspect. */
  readonly health: string | null;
  /**
   * Why the last look at it was no evidence of the node's health (paused on a standby, a verdict
   * from before its last pause); null when it was. The node's verdict then stands as it was.
   */
  readonly healthWaiting: string | null;
}

/** The last configuration reload, as `/status` shows it. */
export interface ReloadStatus {
  readonly at: string;
  /** SIGHUP, or api for `heartbeat-sidecar reload`. */
  readonly trigger: string;
  readonly result: 'applied' | 'refused';
  /** Each problem as file:line and message, when refused. */
  readonly problems: readonly string[];
  /** What changed in place. */
  readonly applied: readonly string[];
  /** What changed but takes effect only at the next restart. */
  readonly restart: readonly string[];
}

/** Everything `/status`, `cl_status` and `heartbeat-sidecar status` show, read at one moment. */
export interface StatusSnapshot {
  readonly node: string;
  readonly role: Role;
  readonly rscstatus: RscStatus;
  readonly healthy: boolean;
  readonly healthReasons: readonly string[];
  readonly standby: boolean;
  readonly maintenance: boolean;
  readonly groups: readonly GroupStatus[];
  readonly peers: readonly PeerStatus[];
  readonly lastTransition: TransitionRecord | null;
  /** The last transitions of every group, oldest first (at most RECENT_TRANSITIONS), for the status page's timeline. */
  readonly recentTransitions?: readonly TransitionRecord[];
  /** One entry per group that protects a container; empty when none does. */
  readonly containers: readonly ContainerStatus[];
  readonly configHash: string;
  readonly ready: boolean;
  /** The last reload since start; null when there was none. */
  readonly reload: ReloadStatus | null;
}
