import type { Config } from '../config/types.js';
import type { Claim } from '../domain/claims.js';
import type { ElectionBackend } from '../domain/election.js';
import type { PeerLiveness } from '../domain/peers.js';
import type { Message, MessageType } from '../wire/types.js';

/**
 * What the engine needs from the config; a subset so simulations can build it directly. Without
 * `election` it runs the heartbeat election.
 */
export type EngineSettings = Pick<Config, 'node' | 'nodes' | 'groups' | 'timing' | 'autoFailback'> & { readonly election?: { readonly backend: ElectionBackend } };

/**
 * With election: etcd, the store's word on one group (daemon/quorum.ts): this node owns the
 * group's key under a lease whose fence still holds, or why it may not hold the group.
 */
export interface Authority {
  readonly granted: boolean;
  /** Why: the acquire's reason when granted, the release's when not. */
  readonly reason: string;
}

export type Phase = 'initdead' | 'running' | 'stopping' | 'stopped';

export interface PathHeard {
  readonly lastHeardAt: number;
  readonly state: PeerLiveness;
}

export interface PeerState {
  readonly node: string;
  readonly generation: number | null;
  readonly paths: Readonly<Record<string, PathHeard>>;
  readonly state: PeerLiveness;
  /** The newest view the peer sent; null until heard (and after it restarts, until heard again). */
  readonly view: Message | null;
  readonly lastReceivedAt: number | null;
  readonly rttMs: number | null;
  /** A slowly decaying maximum of the RTT: how late this peer's news can be, for the claim window. */
  readonly rttHighMs: number;
  /** Since when the peer's messages have not echoed us although we hear it: it may not hear us. */
  readonly unheardBySince: number | null;
}

export interface GroupState {
  readonly claim: Claim;
  readonly since: number;
  /** The last other node seen holding this group, so an acquire can say why it happened. */
  readonly lastOtherHolder: string | null;
  /** We hold and win, and another node claims it too: announce again once it lets go. */
  readonly contested: boolean;
  /**
   * While `acquiring` and not yet applied: when the VIP may be assigned. The claim is advertised
   * first, so two nodes that both think they win see each other and one stands down before
   * either touches the interface.
   */
  readonly applyAt: number | null;
  /**
   * The peer that held this group (or was releasing it) and now advertises none: it let go
   * because it saw another node win. When it is the only peer that could contend, its release
   * settles who holds, and the winner assigns at once rather than after a claim window.
   */
  readonly releasedBy: string | null;
}

export interface EngineState {
  readonly phase: Phase;
  readonly generation: number;
  readonly startedAt: number;
  readonly lastTickAt: number;
  /** When the engine last stepped, for any event: a longer pause means its loop was not reading the sockets. */
  readonly lastStepAt: number;
  /**
   * The last step before a pause of the loop, until the runtime reports the sockets read since
   * (`resumed`): silence is judged only up to here meanwhile (see `pausedAt` in engine.ts).
   */
  readonly pausedAt: number | null;
  readonly nextHeartbeatAt: number;
  readonly seq: number;
  readonly healthy: boolean;
  readonly healthReasons: readonly string[];
  readonly standby: boolean;
  readonly maintenance: boolean;
  readonly takeoverEpoch: number;
  /** Highest takeover epoch seen from anyone, so a new `takeover` outranks every earlier one. */
  readonly maxEpochSeen: number;
  /** After a stall, hold nothing until every peer is heard again or this time passes. */
  readonly recheckUntil: number | null;
  readonly stallAt: number | null;
  readonly peers: Readonly<Record<string, PeerState>>;
  readonly groups: Readonly<Record<string, GroupState>>;
  /** Groups a reload removes: released here and never claimed again, until the new config drops them. */
  readonly retiring: readonly string[];
  /**
   * The heartbeat sockets are overrun (a flood): peer silence is no evidence, so nothing new is
   * claimed; what is held is kept.
   */
  readonly overrun: boolean;
  /** With election: etcd, each group's authority from the store; empty with the heartbeat election. */
  readonly authority: Readonly<Record<string, Authority>>;
}

export type EngineEvent =
  | { readonly type: 'tick' }
  /** The loop has read what its sockets held after a pause: silence counts in full again. */
  | { readonly type: 'resumed' }
  | { readonly type: 'message'; readonly path: string; readonly message: Message }
  | { readonly type: 'acquired'; readonly group: string }
  | { readonly type: 'released'; readonly group: string }
  | { readonly type: 'health'; readonly healthy: boolean; readonly reasons: readonly string[] }
  | { readonly type: 'standby' }
  | { readonly type: 'takeover' }
  | { readonly type: 'maintenance'; readonly enabled: boolean }
  | { readonly type: 'retire'; readonly groups: readonly string[] }
  | { readonly type: 'overrun'; readonly active: boolean }
  | { readonly type: 'authority'; readonly group: string; readonly authority: Authority }
  | { readonly type: 'shutdown' };

export type Action =
  | { readonly type: 'send'; readonly message: Message }
  | { readonly type: 'acquire'; readonly group: string; readonly reason: string }
  | { readonly type: 'release'; readonly group: string; readonly reason: string }
  | { readonly type: 'announce'; readonly group: string; readonly reason: string }
  | { readonly type: 'transition'; readonly group: string; readonly from: Claim; readonly to: Claim; readonly reason: string }
  | { readonly type: 'peer'; readonly node: string; readonly path: string | null; readonly from: PeerLiveness; readonly to: PeerLiveness }
  | { readonly type: 'late'; readonly node: string; readonly path: string; readonly intervalMs: number }
  | { readonly type: 'rtt'; readonly node: string; readonly rttMs: number }
  | { readonly type: 'stall'; readonly lateMs: number }
  | { readonly type: 'stopped' };

export type ActionType = Action['type'];
export type { MessageType };

export interface StepResult {
  readonly state: EngineState;
  readonly actions: readonly Action[];
}
