/**
 * The pure state machine (docs/architecture.md, Engine rules): `step(state, event, now)` returns the next state and the
 * actions to run. It never touches a socket, a timer, a log or Docker, so every scenario is a
 * table test driven by a fake clock.
 *
 * Every node runs the same deterministic election over the same shared views (each heartbeat
 * carries the sender's claims and flags), so nodes agree on the winner of each group without a
 * coordinator. The holder lets go first and says so; the winner acquires only once nobody else
 * claims the group. That ordering is what keeps a planned move free of double holders.
 */
import type { Claim } from '../domain/claims.js';
import type { PeerLiveness } from '../domain/peers.js';
import type { Message, MessageType } from '../wire/types.js';
import { winnerOf, type Candidate } from './rank.js';
import type { Action, EngineEvent, EngineSettings, EngineState, GroupState, PeerState, StepResult } from './types.js';

const LIVENESS_ORDER: Record<PeerLiveness, number> = { up: 4, late: 3, dead: 2, left: 1, unknown: 0 };
/** Per message: a spike in RTT is forgotten over a few dozen heartbeats, not at once. */
const RTT_HIGH_DECAY = 0.97;

export interface Engine {
  readonly settings: EngineSettings;
  initial(now: number, generation: number): EngineState;
  /**
   * Carries a state from an engine of another config (a reload) over to this one: what is known
   * of the peers and groups that remain is kept, new ones start fresh, and removed ones, which
   * must have been retired first, are dropped.
   */
  adopt(previous: EngineState, now: number): EngineState;
  step(state: EngineState, event: EngineEvent, now: number): StepResult;
  /**
   * The next time a tick can change anything, after `now`: a heartbeat due, a peer's path
   * going late or dead, a deaf holder's grace ending, initdead or a post-stall recheck ending.
   * Claim windows have their own (nextClaimDeadline). Between these, a tick is a no-op, so the
   * runtime sleeps until then instead of ticking at a fixed rate.
   */
  nextWake(state: EngineState, now: number): number;
}

export function createEngine(settings: EngineSettings): Engine {
  const self = settings.node;
  const peerNames = settings.nodes.map((n) => n.name).filter((n) => n !== self);
  const priorityOf = new Map(settings.nodes.map((n) => [n.name, n.priority]));
  const { keepaliveMs, warntimeMs, deadtimeMs, initdeadMs } = settings.timing;
  /** election: etcd: the store decides who holds; heartbeats only show the peers. */
  const byStore = settings.election?.backend === 'etcd';
  /**
   * The claim window must outlast the slowest peer's news: twice the highest recent RTT, at
   * least 20 ms (a LAN round trip plus a busy event loop), at most one keepalive.
   */
  const minClaimWindowMs = Math.min(20, keepaliveMs / 5);
  /** A running loop steps at least once a keepalive, to send its heartbeat: a longer gap is a pause (see pausedAt). */
  const resumeGapMs = 1.5 * keepaliveMs;
  function claimWindowMs(state: EngineState): number {
    let high = 0;
    for (const n of peerNames) {
      const p = state.peers[n]!;
      if (alive(p)) high = Math.max(high, p.rttHighMs);
    }
    return Math.min(keepaliveMs, Math.max(minClaimWindowMs, 2 * high));
  }

  function initial(now: number, generation: number): EngineState {
    const peers: Record<string, PeerState> = {};
    for (const node of peerNames) peers[node] = freshPeer(node);
    const groups: Record<string, GroupState> = {};
    for (const g of settings.groups) groups[g.id] = { claim: 'none', since: now, lastOtherHolder: null, contested: false, applyAt: null, releasedBy: null };
    return {
      phase: 'initdead',
      generation,
      startedAt: now,
      lastTickAt: now,
      lastStepAt: now,
      pausedAt: null,
      nextHeartbeatAt: now,
      seq: 0,
      healthy: true,
      healthReasons: [],
      standby: false,
      maintenance: false,
      takeoverEpoch: 0,
      maxEpochSeen: 0,
      recheckUntil: null,
      stallAt: null,
      peers,
      groups,
      retiring: [],
      overrun: false,
      authority: {},
    };
  }

  function adopt(previous: EngineState, now: number): EngineState {
    const fresh = initial(now, previous.generation);
    const peers = Object.fromEntries(peerNames.map((n) => [n, previous.peers[n] ?? fresh.peers[n]!]));
    const groups = Object.fromEntries(settings.groups.map((g) => [g.id, previous.groups[g.id] ?? fresh.groups[g.id]!]));
    return { ...previous, peers, groups, retiring: [] };
  }

  function step(state: EngineState, event: EngineEvent, now: number): StepResult {
    if (state.phase === 'stopped') return { state, actions: [] };
    const s = new Draft(state);

    // A timer that fired later than deadtime means we were frozen long enough for a peer to
    // declare us dead and take over; keepalived added the same guard after split-brain reports.
    // With etcd deciding, the fence guards against a freeze instead (fence.ts), on the lease's clock.
    const silentFor = now - state.lastTickAt;
    if (silentFor > deadtimeMs && !byStore) onStall(s, now, silentFor);

    switch (event.type) {
      case 'tick':
        s.state.lastTickAt = now;
        break;
      case 'resumed':
        break;
      case 'message':
        onMessage(s, event.path, event.message, now);
        break;
      case 'acquired':
        if (s.group(event.group)?.claim === 'acquiring') {
          setClaim(s, event.group, 'held', 'acquired', now);
          sendNow(s, 'heartbeat', now);
        }
        break;
      case 'released':
        if (s.group(event.group)?.claim === 'releasing') {
          setClaim(s, event.group, 'none', 'released', now);
          // The explicit release lets the next holder acquire at once instead of after deadtime.
          if (s.state.phase !== 'stopping') sendNow(s, 'release', now);
        }
        break;
      case 'health':
        if (event.healthy !== s.state.healthy) sendSoon(s);
        s.state.healthy = event.healthy;
        s.state.healthReasons = [...event.reasons];
        break;
      case 'standby':
        s.state.standby = true;
        sendSoon(s);
        break;
      case 'takeover':
        s.state.standby = false;
        s.state.takeoverEpoch = s.state.maxEpochSeen + 1;
        s.state.maxEpochSeen = s.state.takeoverEpoch;
        sendNow(s, 'takeover-request', now);
        break;
      case 'maintenance':
        s.state.maintenance = event.enabled;
        sendSoon(s);
        break;
      case 'retire':
        s.state.retiring = [...event.groups];
        break;
      case 'overrun':
        s.state.overrun = event.active;
        break;
      case 'authority':
        s.state.authority = { ...s.state.authority, [event.group]: event.authority };
        break;
      case 'shutdown':
        if (s.state.phase !== 'stopping') s.state.phase = 'stopping';
        break;
    }

    s.state.pausedAt = event.type === 'resumed' ? null : pausedAt(state, now);
    updateMembership(s, s.state.pausedAt ?? now);
    if (s.state.phase === 'initdead' && initdeadOver(s.state, now)) s.state.phase = 'running';
    if (s.state.recheckUntil !== null && recheckOver(s.state, now)) s.state.recheckUntil = null;
    if (s.state.phase === 'running' || s.state.phase === 'stopping') {
      for (const g of settings.groups) decide(s, g.id, g.preferred, now);
    }
    if (s.state.phase === 'stopping' && Object.values(s.state.groups).every((g) => g.claim === 'none')) {
      // Tell peers we are gone so they elect a new holder now, not after deadtime.
      sendNow(s, 'leave', now);
      s.state.phase = 'stopped';
      // A stopped engine judges nothing more: no `resumed` is waited for.
      s.state.pausedAt = null;
      s.actions.push({ type: 'stopped' });
    } else if (now >= s.state.nextHeartbeatAt) {
      sendNow(s, 'heartbeat', now);
    }
    s.state.lastStepAt = now;
    return { state: s.state, actions: s.actions };
  }

  /**
   * A loop steps at least once a keepalive (it sends its heartbeat then), reading the sockets in
   * between. After a longer pause (the process descheduled or stopped, a long GC, a busy host)
   * the timers run before the sockets are read, so what the peers sent meanwhile is still queued:
   * until the runtime says it has been read (`resumed`), silence counts only up to the step
   * before the pause. Without this a freeze just short of deadtime, too short to count as a
   * stall, declared a live holder dead and claimed its VIP.
   */
  function pausedAt(state: EngineState, now: number): number | null {
    return state.pausedAt ?? (now - state.lastStepAt > resumeGapMs ? state.lastStepAt : null);
  }

  function onStall(s: Draft, now: number, silentFor: number): void {
    s.actions.push({ type: 'stall', lateMs: silentFor });
    s.state.lastTickAt = now;
    s.state.stallAt = now;
    s.state.recheckUntil = now + deadtimeMs;
    // Old hearings prove nothing after a freeze: wait for fresh ones before judging anyone.
    for (const node of peerNames) {
      const p = s.state.peers[node]!;
      s.setPeer({ ...freshPeer(node), generation: p.generation, state: p.state === 'left' ? 'left' : 'unknown' });
    }
    for (const g of settings.groups) {
      const claim = s.group(g.id)!.claim;
      if (claim === 'held' || claim === 'acquiring') startRelease(s, g.id, 'stall', now);
    }
  }

  function onMessage(s: Draft, path: string, message: Message, now: number): void {
    if (message.node === self) return;
    const before = s.state.peers[message.node];
    if (before === undefined) return;
    const restarted = before.generation !== null && message.generation > before.generation;
    // The same message arrives once per path, and a slow path may deliver an older one after a
    // newer one: each proves the path alive, but only the newest may change the peer's view.
    const newest = before.view === null || restarted || message.generation > before.view.generation || message.seq > before.view.seq;
    if (!newest) {
      const heard = before.paths[path];
      s.setPeer({ ...before, paths: { ...before.paths, [path]: { lastHeardAt: now, state: heard?.state ?? 'unknown' } } });
      return;
    }
    const previousOnPath = restarted ? undefined : before.paths[path];
    if (previousOnPath !== undefined && previousOnPath.state !== 'unknown') {
      const intervalMs = now - previousOnPath.lastHeardAt;
      if (intervalMs > warntimeMs && intervalMs <= deadtimeMs) s.actions.push({ type: 'late', node: message.node, path, intervalMs });
    }
    const echo = message.echoes.find((e) => e.node === self);
    let rttMs = before.rttMs;
    let rttHighMs = before.rttHighMs * RTT_HIGH_DECAY;
    if (echo !== undefined) {
      const measured = now - echo.sentAtMs - echo.heldMs;
      if (measured >= 0 && echo.sentAtMs <= now) {
        rttMs = measured;
        rttHighMs = Math.max(rttHighMs, measured);
        s.actions.push({ type: 'rtt', node: message.node, rttMs: measured });
      }
    }
    const alive = before.state === 'up' || before.state === 'late';
    const unheardBySince = echo !== undefined ? null : (alive && !restarted ? before.unheardBySince ?? now : null);
    s.setPeer({
      ...before,
      generation: message.generation,
      paths: { ...(restarted ? {} : before.paths), [path]: { lastHeardAt: now, state: before.paths[path]?.state ?? 'unknown' } },
      view: message,
      lastReceivedAt: now,
      rttMs,
      rttHighMs,
      unheardBySince,
      state: message.type === 'leave' ? 'left' : before.state,
    });
    if (message.takeoverEpoch > s.state.maxEpochSeen) s.state.maxEpochSeen = message.takeoverEpoch;
    for (const c of message.groups) {
      const g = s.group(c.group);
      if (g === undefined) continue;
      if (claimsGroup(c.claim)) {
        if (g.lastOtherHolder !== message.node || g.releasedBy === message.node) s.setGroup(c.group, { ...g, lastOtherHolder: message.node, releasedBy: null });
      } else if (!restarted && message.type !== 'leave') {
        const was = before.view?.groups.find((b) => b.group === c.group)?.claim;
        if (was === 'held' || was === 'releasing') s.setGroup(c.group, { ...g, releasedBy: message.node });
      }
    }
  }

  function updateMembership(s: Draft, now: number): void {
    for (const node of peerNames) {
      const p = s.state.peers[node]!;
      let best: PeerLiveness = 'unknown';
      let changed = false;
      for (const path in p.paths) {
        const heard = p.paths[path]!;
        const state = pathLiveness(now - heard.lastHeardAt);
        if (state !== heard.state) changed = true;
        if (LIVENESS_ORDER[state] > LIVENESS_ORDER[best]) best = state;
      }
      // A leave message outranks the paths until the peer speaks again with something else.
      const overall: PeerLiveness = p.state === 'left' && p.view?.type === 'leave' ? 'left' : best;
      if (!changed && overall === p.state) continue;
      const paths: Record<string, { lastHeardAt: number; state: PeerLiveness }> = {};
      for (const path in p.paths) {
        const heard = p.paths[path]!;
        const state = pathLiveness(now - heard.lastHeardAt);
        if (state !== heard.state) s.actions.push({ type: 'peer', node, path, from: heard.state, to: state });
        paths[path] = { lastHeardAt: heard.lastHeardAt, state };
      }
      if (overall !== p.state) {
        s.actions.push({ type: 'peer', node, path: null, from: p.state, to: overall });
        if (p.state === 'dead' && (overall === 'up' || overall === 'late')) s.peerReturned = true;
      }
      const alive = overall === 'up' || overall === 'late';
      s.setPeer({ ...p, paths, state: overall, unheardBySince: alive ? p.unheardBySince : null });
    }
  }

  function pathLiveness(silentMs: number): PeerLiveness {
    return silentMs > deadtimeMs ? 'dead' : silentMs > warntimeMs ? 'late' : 'up';
  }

  function initdeadOver(state: EngineState, now: number): boolean {
    // The store grants nothing a peer still holds: there is nobody to wait for.
    if (byStore || now - state.startedAt >= initdeadMs) return true;
    return peerNames.every((n) => state.peers[n]!.view !== null);
  }

  function recheckOver(state: EngineState, now: number): boolean {
    if (state.recheckUntil !== null && now >= state.recheckUntil) return true;
    return peerNames.every((n) => state.peers[n]!.view !== null);
  }

  /**
   * Able to hold, as this node advertises it. A node still in initdead counts: peers must not
   * grab a group it is about to win, or both would acquire on views one datagram apart.
   */
  function advertisedHealthy(state: EngineState): boolean {
    return state.healthy && state.recheckUntil === null && (state.phase === 'running' || state.phase === 'initdead');
  }

  function selfEligible(state: EngineState): boolean {
    return state.phase === 'running' && advertisedHealthy(state) && !state.maintenance;
  }

  function alive(p: PeerState): boolean {
    return p.state === 'up' || p.state === 'late';
  }

  function claimsGroup(claim: Claim | undefined): boolean {
    return claim === 'held' || claim === 'acquiring' || claim === 'releasing';
  }

  function peerClaim(p: PeerState, group: string): Claim | undefined {
    return p.view?.groups.find((c) => c.group === group)?.claim;
  }

  function decide(s: Draft, group: string, preferred: string | null, now: number): void {
    const state = s.state;
    const mine = state.groups[group]!;
    if (state.retiring.includes(group)) {
      // a claim not yet applied is simply dropped; anything on the interface is released
      if (mine.claim === 'acquiring' && mine.applyAt !== null) setClaim(s, group, 'none', 'removed', now);
      else if (mine.claim === 'acquiring' || mine.claim === 'held') startRelease(s, group, 'removed', now);
      return;
    }
    if (byStore) return followStore(s, group, now);
    const candidates: Candidate[] = [];
    if (selfEligible(state)) {
      candidates.push({
        node: self,
        standby: state.standby,
        epoch: state.takeoverEpoch,
        holder: mine.claim === 'held' || mine.claim === 'acquiring',
        priority: priorityOf.get(self) ?? 0,
      });
    }
    const otherHolders: PeerState[] = [];
    for (const node of peerNames) {
      const p = state.peers[node]!;
      if (!alive(p) || p.view === null) continue;
      const claim = peerClaim(p, group);
      if (claimsGroup(claim)) otherHolders.push(p);
      const v = p.view;
      // a node whose config lacks the group (or that retires it) does not stand for it
      if (v.healthy && !v.maintenance && claim !== undefined) {
        candidates.push({ node, standby: v.standby, epoch: v.takeoverEpoch, holder: claim === 'held' || claim === 'acquiring', priority: v.priority });
      }
    }
    const winner = winnerOf(candidates, preferred, settings.autoFailback);

    if (mine.claim === 'acquiring' && mine.applyAt !== null) {
      // Only a claim so far: stand down if someone else wins or already has the VIP.
      const blocker = otherHolders.find((p) => peerClaim(p, group) !== 'acquiring') ?? (winner !== null && winner.node !== self ? winner : null);
      if (blocker !== null) {
        setClaim(s, group, 'none', `contended:${blocker.node}`, now);
        return;
      }
      if (now >= mine.applyAt) {
        s.setGroup(group, { ...mine, applyAt: null });
        s.actions.push({ type: 'acquire', group, reason: acquireReason(state, mine.lastOtherHolder) });
      }
      return;
    }
    const holding = mine.claim === 'held' || mine.claim === 'acquiring';
    if (holding) {
      const reason = releaseReason(state, winner, otherHolders, preferred, now);
      if (reason !== null) {
        startRelease(s, group, reason, now);
        return;
      }
      const contested = otherHolders.length > 0;
      const g = s.group(group)!;
      if (s.peerReturned && !contested && mine.claim === 'held') {
        // A peer back from the dead may have held this group and announced itself meanwhile,
        // even if it let go before we saw its claim: point every cache back at us.
        s.actions.push({ type: 'announce', group, reason: 'peer-returned' });
      }
      if (contested !== g.contested && mine.claim === 'held') {
        // Caches may point at the other claimant (it announced itself while we could not see it).
        s.actions.push({ type: 'announce', group, reason: contested ? 'split-brain' : 'split-brain-healed' });
      }
      if (contested !== g.contested) s.setGroup(group, { ...g, contested });
      return;
    }
    if (mine.claim === 'none' && winner?.node === self && otherHolders.length === 0 && !state.overrun) {
      const { lastOtherHolder, releasedBy } = s.group(group)!;
      const reason = acquireReason(state, lastOtherHolder);
      setClaim(s, group, 'acquiring', reason, now);
      // Only a live peer can contend (even one our view says cannot hold: that view may be
      // stale); with none (the usual two-node failover) waiting buys nothing. Nor when the one
      // live peer has just released the group: it let go because it ranks us first (a failback,
      // a takeover, a standby), so the handshake is already done.
      const contenders = peerNames.filter((n) => alive(state.peers[n]!));
      const settled = contenders.every((n) => n === releasedBy);
      if (!settled) s.setGroup(group, { ...s.group(group)!, applyAt: now + claimWindowMs(state) });
      else s.actions.push({ type: 'acquire', group, reason });
      sendSoon(s);
    }
  }

  /**
   * election: etcd: hold exactly while the store grants the group. The store lets one node own
   * the group's key at a time, and the previous owner let go of the VIP before its key could go
   * (it released first, or its fence passed), so there is no claim window to wait. Maintenance
   * and shutdown let go at once, before the store hears of them.
   */
  function followStore(s: Draft, group: string, now: number): void {
    const state = s.state;
    const mine = state.groups[group]!;
    const authority = state.authority[group];
    const holding = mine.claim === 'held' || mine.claim === 'acquiring';
    const reason = state.phase === 'stopping' ? 'shutdown' : state.maintenance ? 'maintenance' : authority?.granted === true ? null : (authority?.reason ?? 'not-elected');
    if (holding && reason !== null) return startRelease(s, group, reason, now);
    if (mine.claim === 'none' && reason === null && authority !== undefined) {
      setClaim(s, group, 'acquiring', authority.reason, now);
      s.actions.push({ type: 'acquire', group, reason: authority.reason });
      sendSoon(s);
    }
  }

  function releaseReason(state: EngineState, winner: Candidate | null, otherHolders: PeerState[], preferred: string | null, now: number): string | null {
    if (state.phase === 'stopping') return 'shutdown';
    if (state.maintenance) return 'maintenance';
    // Unfit, hand over to a fit peer; with none, this node is the least bad holder and keeps serving.
    if (!state.healthy) return winner !== null ? 'unhealthy' : null;
    // A holder that cannot hear us will never let go; yielding is the only way to one holder.
    const deaf = otherHolders.find((p) => p.unheardBySince !== null && now - p.unheardBySince >= warntimeMs);
    if (deaf !== undefined) return `unheard-by:${deaf.node}`;
    if (winner === null || winner.node === self) return null;
    if (otherHolders.some((p) => p.node === winner.node)) return `split-brain:${winner.node}`;
    if (state.standby) return 'standby';
    if (winner.epoch > state.takeoverEpoch) return `takeover:${winner.node}`;
    if (settings.autoFailback && winner.node === preferred) return `failback:${winner.node}`;
    return `outranked:${winner.node}`;
  }

  function acquireReason(state: EngineState, lastOtherHolder: string | null): string {
    if (lastOtherHolder === null) return 'elected';
    const p = state.peers[lastOtherHolder];
    if (p === undefined) return 'elected';
    if (p.state === 'left') return `peer-left:${lastOtherHolder}`;
    if (p.state === 'dead') return `peer-dead:${lastOtherHolder}`;
    if (p.state === 'unknown') return 'elected';
    return `handover:${lastOtherHolder}`;
  }

  function startRelease(s: Draft, group: string, reason: string, now: number): void {
    setClaim(s, group, 'releasing', reason, now);
    s.actions.push({ type: 'release', group, reason });
    // The next holder must see this node releasing before it sees it hold nothing: that is
    // what tells it the release was a handshake and lets it assign without a claim window.
    sendSoon(s);
  }

  function setClaim(s: Draft, group: string, to: Claim, reason: string, now: number): void {
    const g = s.group(group)!;
    if (g.claim === to) return;
    s.actions.push({ type: 'transition', group, from: g.claim, to, reason });
    s.setGroup(group, { ...g, claim: to, since: now, contested: to === 'held' ? g.contested : false, applyAt: null, releasedBy: to === 'none' ? g.releasedBy : null });
  }

  /** Peers learn of a changed claim or flag with the next message, sent at the end of this step. */
  function sendSoon(s: Draft): void {
    s.state.nextHeartbeatAt = Math.min(s.state.nextHeartbeatAt, s.state.lastTickAt);
  }

  function sendNow(s: Draft, type: MessageType, now: number): void {
    const state = s.state;
    const seq = state.seq + 1;
    const message: Message = {
      type,
      node: self,
      generation: state.generation,
      seq,
      sentAtMs: now,
      priority: priorityOf.get(self) ?? 0,
      healthy: advertisedHealthy(state),
      standby: state.standby,
      maintenance: state.maintenance,
      takeoverEpoch: state.takeoverEpoch,
      // A retired group is left out once let go, so peers elect among the nodes that keep it.
      groups: settings.groups.filter((g) => !state.retiring.includes(g.id) || state.groups[g.id]!.claim !== 'none').map((g) => ({ group: g.id, claim: state.groups[g.id]!.claim })),
      echoes: peerNames
        .map((n) => state.peers[n]!)
        .filter((p) => alive(p) && p.view !== null && p.lastReceivedAt !== null)
        .map((p) => ({ node: p.node, sentAtMs: p.view!.sentAtMs, heldMs: now - p.lastReceivedAt! })),
    };
    state.seq = seq;
    state.nextHeartbeatAt = now + keepaliveMs;
    s.actions.push({ type: 'send', message });
  }

  function nextWake(state: EngineState, now: number): number {
    let at = state.nextHeartbeatAt;
    // Only what is still ahead: a threshold at `now` itself has just been judged by this step.
    const soonest = (t: number) => {
      if (t > now && t < at) at = t;
    };
    for (const node of peerNames) {
      const p = state.peers[node]!;
      for (const path in p.paths) {
        // Liveness changes once the silence exceeds a threshold: a millisecond past it.
        const heard = p.paths[path]!.lastHeardAt;
        soonest(heard + warntimeMs + 1);
        soonest(heard + deadtimeMs + 1);
      }
      if (p.unheardBySince !== null) soonest(p.unheardBySince + warntimeMs);
    }
    if (state.phase === 'initdead') soonest(state.startedAt + initdeadMs);
    if (state.recheckUntil !== null) soonest(state.recheckUntil);
    return Math.max(at, now + 1);
  }

  return { settings, initial, adopt, step, nextWake };
}

/** The earliest moment a claim window ends, so the runtime can wake then instead of on a later tick. */
export function nextClaimDeadline(state: EngineState): number | null {
  let earliest: number | null = null;
  for (const g of Object.values(state.groups)) {
    if (g.applyAt !== null && (earliest === null || g.applyAt < earliest)) earliest = g.applyAt;
  }
  return earliest;
}

function freshPeer(node: string): PeerState {
  return { node, generation: null, paths: {}, state: 'unknown', view: null, lastReceivedAt: null, rttMs: null, rttHighMs: 0, unheardBySince: null };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Copy-on-write wrapper: the input state is never modified, only the parts touched are copied. */
class Draft {
  readonly state: Mutable<EngineState>;
  readonly actions: Action[] = [];
  /** A peer came back from dead during this step. */
  peerReturned = false;
  private peersCopied = false;
  private groupsCopied = false;

  constructor(input: EngineState) {
    this.state = { ...input };
  }

  group(id: string): GroupState | undefined {
    return this.state.groups[id];
  }

  setGroup(id: string, value: GroupState): void {
    if (!this.groupsCopied) {
      this.state.groups = { ...this.state.groups };
      this.groupsCopied = true;
    }
    (this.state.groups as Record<string, GroupState>)[id] = value;
  }

  setPeer(value: PeerState): void {
    if (!this.peersCopied) {
      this.state.peers = { ...this.state.peers };
      this.peersCopied = true;
    }
    (this.state.peers as Record<string, PeerState>)[value.node] = value;
  }
}
