/** Turns the engine's state into the snapshot every surface shows (`/status`, `cl_status`, CLI). */
import type { Config } from '../config/types.js';
import type { EngineState, PeerState } from '../engine/types.js';
import type { PresentAddress } from '../resources/ipaddr.js';
import type { ContainerStatus, ElectionStatus, GroupStatus, PeerStatus, Role, RscStatus, StatusSnapshot, TransitionRecord, ReloadStatus } from './status.js';

export interface DescribeInput {
  readonly config: Config;
  readonly configHash: string;
  readonly state: EngineState;
  readonly present: ReadonlyMap<string, PresentAddress>;
  readonly lastTransition: TransitionRecord | null;
  readonly recentTransitions?: readonly TransitionRecord[];
  readonly now: number;
  readonly pathIds: readonly string[];
  readonly containers: readonly ContainerStatus[];
  readonly reload: ReloadStatus | null;
  readonly election?: ElectionStatus;
}

export function describeStatus(input: DescribeInput): StatusSnapshot {
  const { config, state, present, now } = input;
  const groups: GroupStatus[] = config.groups.map((g) => {
    const claim = state.groups[g.id]!.claim;
    const holders = claim === 'held' ? [config.node] : [];
    // With etcd deciding, etcd's owner is the holder, whether or not its heartbeats are heard.
    const owner = input.election?.backend === 'etcd' ? input.election.holders[g.id] : undefined;
    if (owner != null && !holders.includes(owner)) holders.push(owner);
    for (const p of Object.values(state.peers)) {
      const c = p.view?.groups.find((x) => x.group === g.id)?.claim;
      if ((p.state === 'up' || p.state === 'late') && c === 'held') holders.push(p.node);
    }
    return {
      id: g.id,
      preferred: g.preferred,
      holder: holders.length === 0 ? null : holders.sort().join(','),
      localClaim: claim,
      vips: g.vips.map((v) => ({ address: v.address, present: present.has(v.address) })),
    };
  });
  return {
    node: config.node,
    role: role(state),
    rscstatus: rscstatus(config, state),
    healthy: state.healthy,
    healthReasons: state.healthReasons,
    standby: state.standby,
    maintenance: state.maintenance,
    groups,
    peers: Object.values(state.peers).map((p) => describePeer(p, now, input.pathIds)),
    lastTransition: input.lastTransition,
    recentTransitions: input.recentTransitions ?? (input.lastTransition === null ? [] : [input.lastTransition]),
    containers: input.containers,
    configHash: input.configHash,
    ready: state.phase === 'running',
    reload: input.reload,
    ...(input.election === undefined ? {} : { election: input.election }),
  };
}

function role(state: EngineState): Role {
  if (state.phase === 'initdead') return 'initdead';
  if (state.phase === 'stopping' || state.phase === 'stopped') return 'stopping';
  return Object.values(state.groups).some((g) => g.claim === 'held') ? 'active' : 'standby';
}

/**
 * Heartbeat's words: `all` when this node holds every group, `local` when it holds the groups
 * it is preferred for, `foreign` when it holds others' groups, `transition` while anything moves.
 */
export function rscstatus(config: Config, state: EngineState): RscStatus {
  const claims = config.groups.map((g) => ({ g, claim: state.groups[g.id]!.claim }));
  if (state.phase === 'initdead' || claims.some((c) => c.claim === 'acquiring' || c.claim === 'releasing')) return 'transition';
  const held = claims.filter((c) => c.claim === 'held');
  if (held.length === 0) return 'none';
  if (held.length === claims.length) return 'all';
  const ownHeld = held.every((c) => c.g.preferred === config.node);
  const allOwn = claims.filter((c) => c.g.preferred === config.node).every((c) => c.claim === 'held');
  return ownHeld && allOwn ? 'local' : 'foreign';
}

function describePeer(p: PeerState, now: number, pathIds: readonly string[]): PeerStatus {
  const ago = (t: number | null): number | null => (t === null ? null : now - t);
  return {
    node: p.node,
    state: p.state,
    lastHeardAgoMs: ago(p.lastReceivedAt),
    rttMs: p.rttMs,
    generation: p.generation,
    healthy: p.view?.healthy ?? null,
    standby: p.view?.standby ?? null,
    maintenance: p.view?.maintenance ?? null,
    paths: pathIds.map((path) => {
      const heard = p.paths[path];
      return { path, state: heard?.state ?? 'unknown', lastHeardAgoMs: heard === undefined ? null : now - heard.lastHeardAt };
    }),
  };
}
