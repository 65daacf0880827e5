/**
 * The daemon's event loop: feeds ticks, datagrams, health and operator commands to the pure
 * engine, and runs the actions it returns. What the host must do for them is planned by the pure
 * planners of plan.ts and done by one executor (work/executor.ts) in two lanes, VIP work and
 * container work, so only one of each runs at a time and a Docker call that hangs can delay
 * container actions only, never a lease renewal.
 *
 * Between transitions vip-upkeep.ts keeps the VIPs as the claims want them (leases, drift, the
 * view of the interfaces from the kernel's events) and host-steps.ts does each step on the host.
 * This file wires them to the engine, the transport, the timers and the reload.
 */
import type { Logger } from 'pino';
import type { Clock, Timers } from '../clock.js';
import type { Config } from '../config/types.js';
import type { AuthKey } from '../domain/auth.js';
import type { Claim } from '../domain/claims.js';
import type { GroupSpec } from '../domain/groups.js';
import { createEngine, nextClaimDeadline } from '../engine/engine.js';
import type { Action, EngineEvent, EngineState } from '../engine/types.js';
import { initGroupSeries, initPeerSeries, setConfigInfo, type Metrics } from '../metrics/index.js';
import type { Announcer } from '../resources/announce.js';
import type { AddressWatch } from '../resources/ip-monitor.js';
import type { VipDriver } from '../resources/ipaddr.js';
import type { Notifier } from '../resources/notify.js';
import { decode, encode } from '../wire/codec.js';
import { ReplayGuard } from '../wire/replay.js';
import type { Message, RejectReason } from '../wire/types.js';
import { createExecutor } from '../work/executor.js';
import { createSerial } from '../work/serial.js';
import { describeStatus } from './describe.js';
import { createHostSteps } from './host-steps.js';
import { planAcquire, planContainerReconcile, planRelease, type PlannedStep, type Step } from './plan.js';
import type { ContainerStatus, ElectionStatus, ReloadStatus, StatusSnapshot, TransitionRecord } from './status.js';
import { createVipUpkeep, renewMsOf, SAFETY_SWEEP_MS } from './vip-upkeep.js';

export interface DatagramTransport {
  start(onDatagram: (bytes: Buffer, path: string, from: { address: string; port: number }) => void): Promise<void>;
  send(bytes: Buffer): Promise<readonly { path: string; ok: boolean; error?: string }[]>;
  stop(): Promise<void>;
  readonly pathIds: readonly string[];
}

/**
 * What a group holds besides its VIPs (the protected container). Acquired after the VIP is up
 * and announced, released before the VIP goes (docs/architecture.md, Acquire and release), and repaired by reconcile.
 */
export interface GroupResources {
  acquire(group: GroupSpec): Promise<void>;
  release(group: GroupSpec): Promise<void>;
  reconcile(group: GroupSpec, holding: boolean): Promise<void>;
}

export interface RuntimeDeps {
  readonly config: Config;
  readonly configHash: string;
  /** This boot's generation (see generation.ts). */
  readonly generation: number;
  readonly transport: DatagramTransport;
  readonly vips: VipDriver;
  /** The kernel's address events; without them the addresses are listed every reconcile period. */
  readonly addresses?: AddressWatch;
  readonly announcer: Announcer;
  readonly notifier: Notifier;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly resources?: GroupResources;
  /** The protected containers' state for the snapshot (none when no group names one). */
  readonly containers?: () => readonly ContainerStatus[];
  /** A transport for a reloaded config whose port, paths or nodes changed. */
  readonly transportFor?: (config: Config) => DatagramTransport;
  /** The replay guard, with the marks a previous run kept (daemon/replay-store.ts); a fresh one by default. */
  readonly replay?: ReplayGuard;
  /**
   * Called on a tick while a peer not yet dead is late (nothing from it for one and a half
   * keepalives): its silence may soon count, so whatever could discredit silence (kernel drops,
   * transport/overrun.ts) must be judged now, not at its next slow poll.
   */
  readonly onPeerLate?: () => void;
  /**
   * election: etcd: the kernel lease a VIP may get now (daemon/quorum.ts), never past the fence;
   * without it, vip_lease.
   */
  readonly vipLeaseCapSec?: () => number;
  /** election: etcd: told of every claim the engine moves, so a resign can follow the release. */
  readonly onClaim?: (group: string, claim: Claim) => void;
  /** election: etcd: what /status shows of the election. */
  readonly election?: () => ElectionStatus;
}

export interface ReloadRequest {
  /** SIGHUP, or api. */
  readonly trigger: string;
  /** What changed that only a restart applies, as the caller found it (API, logging, health checks). */
  readonly restartOnly?: readonly string[];
}

/** Log each datagram rejection reason at most once per window, with how many were suppressed. */
const REJECT_LOG_WINDOW_MS = 10_000;

export interface Runtime {
  start(): Promise<void>;
  /**
   * Planned-move shutdown: release, say goodbye, stop. Resolves when done or after `graceMs`,
   * with whether every VIP is known to be gone from the interfaces.
   */
  stop(graceMs: number): Promise<{ vipsGone: boolean }>;
  snapshot(): StatusSnapshot;
  /** A group's claim now; `none` for a group the config does not have. */
  claimOf(group: string): Claim;
  command(event: Extract<EngineEvent, { type: 'standby' | 'takeover' | 'maintenance' | 'health' | 'overrun' | 'authority' }>): void;
  /**
   * Applies a new, valid config in place (or refuses it, running on as before, when it cannot be
   * applied; rejects only when the heartbeat socket is lost): timing, keys, failback and priorities at once without
   * touching held VIPs; a removed group (or one whose VIPs changed) is released by the normal
   * handshake first; a changed port, path or node list restarts the transport, keeping what is
   * known of the peers, so nobody is declared dead.
   */
  reload(next: Config, configHash: string, request: ReloadRequest): Promise<ReloadStatus>;
  /** Records a reload refused for problems; the daemon runs on as before. */
  refuseReload(trigger: string, problems: readonly string[]): ReloadStatus;
}

export function createRuntime(deps: RuntimeDeps): Runtime {
  const { vips, announcer, notifier, metrics, logger, clock, timers } = deps;
  // All of these change on a reload.
  let config = deps.config;
  let configHash = deps.configHash;
  let transport = deps.transport;
  let engine = createEngine(config);
  const replay = deps.replay ?? new ReplayGuard();
  /** Our own broadcasts heard back, per path: each once, or it is a replay of them. */
  const ownEchoes = new ReplayGuard();
  let sendKey = sendKeyOf(config);
  let groupsById = new Map(config.groups.map((g) => [g.id, g]));
  const log = logger.child({ component: 'runtime' });

  let state: EngineState = engine.initial(clock.now(), deps.generation);
  let lastTransition: TransitionRecord | null = null;
  /** The status page's timeline: the last few transitions of every group, oldest first. */
  const recentTransitions: TransitionRecord[] = [];
  const acquiringSince = new Map<string, number>();
  const rejectLog = new Map<string, { at: number; suppressed: number }>();
  const upkeep = createVipUpkeep({
    vips,
    addresses: deps.addresses,
    run: (plan) => executor.run(plan),
    config: () => config,
    claimOf,
    tick: () => feed({ type: 'tick' }),
    applying: () => pendingApplies > 0,
    metrics,
    log,
  });
  const steps = createHostSteps({
    vips,
    announcer,
    resources: deps.resources,
    metrics,
    log,
    timers,
    config: () => config,
    leaseSec: () => deps.vipLeaseCapSec?.() ?? config.vipLeaseSec,
    groupOf,
    claimOf,
    report: (event, group) => feed({ type: event, group }),
    done: (v, isPresent) => upkeep.done(v, isPresent),
  });
  const executor = createExecutor<PlannedStep['lane'], PlannedStep>({
    lanes: ['vip', 'container'],
    timers,
    perform: steps.perform,
    wanted: (p) => {
      // A VIP step queued before a freeze can get its turn on resume before any timer fires:
      // the engine sees the time first (see VipUpkeepDeps.tick), so the claims it is judged by are current.
      if (p.lane === 'vip') feed({ type: 'tick' });
      return p.while === null || claimOf(groupOfStep(p.step)!) === p.while;
    },
    onFailure: steps.onFailure,
  });
  /** Acquires and releases under way: drift is not repaired while the claims are moving. */
  let pendingApplies = 0;
  /** Groups whose container reconcile is still queued: a hung Docker must not pile them up. */
  const containerReconciling = new Set<string>();
  /** The engine's next wake-up: it is ticked only when a tick can change something. */
  let tickWake: { at: number; handle: unknown } | null = null;
  let ticking = false;
  let reconcileHandle: unknown = null;
  let renewHandle: unknown = null;
  let sweepHandle: unknown = null;
  let refreshHandle: unknown = null;
  let onStopped: (() => void) | null = null;
  /** Datagrams handed to the transport but not yet sent; the goodbye must not die with the socket. */
  const inFlight = new Set<Promise<void>>();

  let claimWake: { at: number; handle: unknown } | null = null;
  /** A `resumed` event waits for the loop's next poll phase (see EngineState.pausedAt). */
  let resumeQueued = false;
  let lastReload: ReloadStatus | null = null;
  /** Reloads run one at a time. */
  const reloads = createSerial();
  /** Resolved by `feed` once every retiring group is released. */
  let onRetired: (() => void) | null = null;

  function feed(event: EngineEvent): void {
    const result = engine.step(state, event, clock.now());
    state = result.state;
    if (state.pausedAt !== null && !resumeQueued) {
      // The loop was paused: let it read what the sockets queued meanwhile before silence counts.
      resumeQueued = true;
      timers.afterIo(() => {
        resumeQueued = false;
        feed({ type: 'resumed' });
      });
    }
    for (const action of result.actions) execute(action);
    if (onRetired !== null && state.retiring.every((g) => state.groups[g]?.claim === 'none')) onRetired();
    // Wake exactly when a claim window ends rather than on a later tick: it is on the failover path.
    const deadline = nextClaimDeadline(state);
    if (deadline !== null && claimWake?.at !== deadline) {
      if (claimWake !== null) timers.clearTimeout(claimWake.handle);
      const handle = timers.setTimeout(() => {
        claimWake = null;
        feed({ type: 'tick' });
      }, Math.max(0, deadline - clock.now()));
      claimWake = { at: deadline, handle };
    }
    scheduleTick();
  }

  /**
   * Sleeps until the engine's next wake-up (a heartbeat due, a peer going late or dead…), or an
   * earlier one if an event brought it forward. A wake-up found early is harmless: the tick
   * changes nothing and schedules the next.
   */
  function scheduleTick(): void {
    if (!ticking) return;
    const at = engine.nextWake(state, clock.now());
    if (tickWake !== null && tickWake.at <= at) return;
    if (tickWake !== null) timers.clearTimeout(tickWake.handle);
    // Node's timers count whole milliseconds from a loop time that may lag the clock by one:
    // unrounded, a wake came early, judged nothing and set another timer a fraction later.
    const delayMs = Math.max(0, Math.ceil(at - clock.now()) + 1);
    const handle = timers.setTimeout(() => {
      const due = tickWake?.at ?? at;
      tickWake = null;
      tick(due);
    }, delayMs);
    tickWake = { at, handle };
  }

  /** One executor per action type; the `never` check makes a new action type a compile error. */
  function execute(action: Action): void {
    switch (action.type) {
      case 'send': {
        const sending = sendMessage(action.message);
        inFlight.add(sending);
        void sending.finally(() => inFlight.delete(sending));
        return;
      }
      case 'acquire':
        acquiringSince.set(action.group, clock.now());
        applying(planAcquire(groupOf(action.group), deps.resources !== undefined));
        return;
      case 'release':
        steps.silence(action.group);
        applying(planRelease(groupOf(action.group), deps.resources !== undefined));
        return;
      case 'announce':
        log.info({ event: 'announce', group: action.group, reason: action.reason }, 'announcing again');
        void steps.announce(groupOf(action.group), true);
        return;
      case 'transition':
        onTransition(action.group, action.from, action.to, action.reason);
        return;
      case 'peer':
        if (action.path === null) {
          metrics.peerUp.set({ peer: action.node }, action.to === 'up' || action.to === 'late' ? 1 : 0);
          log.info({ event: 'peer', peer: action.node, from: action.from, to: action.to }, `peer ${action.node} ${action.to}`);
        } else {
          log.debug({ event: 'path', peer: action.node, path: action.path, from: action.from, to: action.to }, 'path state');
        }
        return;
      case 'late':
        metrics.heartbeatsLate.inc({ peer: action.node, path: action.path });
        log.warn({ event: 'late', peer: action.node, path: action.path, intervalMs: action.intervalMs }, 'late heartbeat');
        return;
      case 'rtt':
        metrics.peerRtt.observe({ peer: action.node }, action.rttMs / 1000);
        return;
      case 'stall':
        metrics.timerStalls.inc();
        log.warn({ event: 'stall', lateMs: action.lateMs }, 'timers fired later than deadtime: releasing and re-checking peers');
        return;
      case 'stopped':
        onStopped?.();
        return;
      default: {
        const unknown: never = action;
        throw new Error(`no executor for ${JSON.stringify(unknown)}`);
      }
    }
  }

  function groupOf(id: string): GroupSpec {
    return groupsById.get(id)!;
  }

  /** A group a reload removed has no claim: `none`, so a timer or retry left for it does nothing. */
  function claimOf(id: string): Claim {
    return state.groups[id]?.claim ?? 'none';
  }

  async function sendMessage(message: Message): Promise<void> {
    const bytes = encode(message, sendKey);
    const results = await transport.send(bytes);
    for (const r of results) {
      if (r.ok) metrics.heartbeatsSent.inc({ path: r.path });
      else {
        metrics.sendErrors.inc({ path: r.path });
        log.debug({ path: r.path, err: r.error }, 'send failed');
      }
    }
  }

  function onDatagram(bytes: Buffer, path: string, from: { address: string; port: number }): void {
    const decoded = decode(bytes, config.auth.keys);
    if (!decoded.ok) return reject(decoded.reason, from.address, decoded.detail);
    const m = decoded.message;
    if (m.node === config.node) return ownDatagram(m, path, from.address);
    if (!config.nodes.some((n) => n.name === m.node)) return reject('unknownNode', from.address, m.node);
    // Per path: every path carries its own copy of each message, and each copy proves its path alive.
    const verdict = replay.check(`${m.node}\u0000${path}`, m.generation, m.seq);
    if (verdict !== 'ok') return reject(verdict, from.address, `${m.node} generation ${m.generation} seq ${m.seq}`);
    metrics.heartbeatsReceived.inc({ peer: m.node, path });
    feed({ type: 'message', path, message: m });
  }

  /**
   * A bcast path, or an mcast path with loop, hears each of our own datagrams once: that is
   * expected and says nothing. Anything else under our name is counted and logged: on a ucast
   * path, a second copy, another generation or a sequence we have not sent yet is a replay of our
   * own datagrams, or another host configured with our name.
   */
  function ownDatagram(m: Message, path: string, from: string): void {
    const detail = `${m.node} generation ${m.generation} seq ${m.seq} (ours: generation ${state.generation} seq ${state.seq})`;
    if (path.startsWith('ucast:') || m.generation !== state.generation || m.seq > state.seq) return reject('ownNode', from, detail);
    if (ownEchoes.check(path, m.generation, m.seq) !== 'ok') return reject('ownNode', from, detail);
  }

  function reject(reason: RejectReason, from: string, detail: string): void {
    metrics.datagramsRejected.inc({ reason });
    const now = clock.now();
    const last = rejectLog.get(reason);
    if (last !== undefined && now - last.at < REJECT_LOG_WINDOW_MS) {
      last.suppressed++;
      return;
    }
    log.warn({ event: 'rejected', reason, from, detail, suppressed: last?.suppressed ?? 0 }, `datagram rejected: ${reason}`);
    rejectLog.set(reason, { at: now, suppressed: 0 });
  }

  /** Runs an acquire or a release; drift is not judged until every one under way has ended. */
  function applying(plan: readonly PlannedStep[]): void {
    pendingApplies++;
    void executor.run(plan).finally(() => {
      pendingApplies--;
      // Events that came while the claims moved were not judged: judge what they left now.
      if (pendingApplies === 0) upkeep.settled();
    });
  }

  function onTransition(group: string, from: Claim, to: Claim, reason: string): void {
    metrics.transitions.inc({ group, from, to, reason: reasonKind(reason) });
    for (const c of ['none', 'acquiring', 'held', 'releasing'] as const) metrics.groupClaim.set({ group, claim: c }, c === to ? 1 : 0);
    metrics.groupHeld.set({ group }, to === 'held' ? 1 : 0);
    if (to === 'held') {
      const since = acquiringSince.get(group);
      if (since !== undefined) metrics.takeoverDuration.observe((clock.now() - since) / 1000);
    }
    lastTransition = { group, from, to, reason, at: new Date(clock.wallNow()).toISOString() };
    recentTransitions.push(lastTransition);
    if (recentTransitions.length > RECENT_TRANSITIONS) recentTransitions.shift();
    log.info({ event: 'transition', group, from, to, reason }, `${group}: ${from} -> ${to} (${reason})`);
    notifier.notify({ group, from, to, reason });
    deps.onClaim?.(group, to);
  }

  /**
   * Every reconcile period: the protected containers are brought back to their roles and, while
   * no address events are heard, the addresses are listed and drift repaired (with events, drift
   * is judged on each one instead).
   */
  async function reconcile(): Promise<void> {
    // The engine sees the time first (see VipUpkeepDeps.tick): a container reconcile on the claims
    // from before a freeze would be as wrong as a VIP repair.
    feed({ type: 'tick' });
    if (pendingApplies === 0) reconcileContainers();
    await upkeep.reconcile();
  }

  function reconcileContainers(): void {
    if (deps.resources === undefined) return;
    for (const step of planContainerReconcile(config.groups, claimOf, containerReconciling)) {
      const group = groupOfStep(step.step)!;
      containerReconciling.add(group);
      void executor.run([step]).finally(() => containerReconciling.delete(group));
    }
  }

  function tick(due: number): void {
    const now = clock.now();
    metrics.timerLateness.observe(Math.max(0, now - due) / 1000);
    feed({ type: 'tick' });
    const lateAfter = now - 1.5 * config.timing.keepaliveMs;
    let late = false;
    for (const p of Object.values(state.peers)) {
      if (p.lastReceivedAt === null) continue;
      metrics.peerLastHeard.set({ peer: p.node }, (now - p.lastReceivedAt) / 1000);
      if (p.state !== 'dead' && p.lastReceivedAt < lateAfter) late = true;
    }
    if (late) deps.onPeerLate?.();
  }

  async function start(): Promise<void> {
    // A VIP left by an earlier run (a crash, a kill -9) is not ours until we win it again.
    const all = config.groups.flatMap((g) => g.vips);
    await upkeep.list();
    const leftover = all.filter((v) => upkeep.present.has(v.address));
    if (leftover.length > 0) {
      log.warn({ event: 'stale-vip', addresses: leftover.map((v) => v.address) }, 'removing VIPs left by an earlier run');
      await vips.remove(leftover);
      await upkeep.list();
    }
    initGroupMetrics(config.groups);
    for (const n of config.nodes) if (n.name !== config.node) metrics.peerUp.set({ peer: n.name }, 0);
    setConfigInfo(metrics, configHash);
    await transport.start(onDatagram);
    initPeerSeries(metrics, peersOf(config), transport.pathIds);
    state = engine.initial(clock.now(), deps.generation);
    startTimers();
    feed({ type: 'tick' });
    upkeep.watch();
    log.info({ event: 'start', node: config.node, generation: state.generation, paths: transport.pathIds }, 'joined');
  }

  function startTimers(): void {
    ticking = true;
    scheduleTick();
    reconcileHandle = timers.setInterval(() => void reconcile(), config.reconcileMs);
    renewHandle = timers.setInterval(() => upkeep.renew(), renewMsOf(config));
    sweepHandle = timers.setInterval(() => void upkeep.sweep(), SAFETY_SWEEP_MS);
    if (config.garp.refreshMs > 0) {
      // Some switches and hosts age out entries learned only from gratuitous ARP.
      refreshHandle = timers.setInterval(() => {
        for (const g of config.groups) if (claimOf(g.id) === 'held') void steps.announce(g);
      }, config.garp.refreshMs);
    }
  }

  function stopTimers(): void {
    ticking = false;
    if (tickWake !== null) timers.clearTimeout(tickWake.handle);
    tickWake = null;
    timers.clearInterval(reconcileHandle);
    timers.clearInterval(renewHandle);
    timers.clearInterval(sweepHandle);
    timers.clearInterval(refreshHandle);
  }

  function initGroupMetrics(groups: readonly GroupSpec[]): void {
    for (const g of groups) {
      initGroupSeries(metrics, g);
      metrics.groupHeld.set({ group: g.id }, 0);
      for (const c of ['none', 'acquiring', 'held', 'releasing'] as const) metrics.groupClaim.set({ group: g.id, claim: c }, c === 'none' ? 1 : 0);
    }
  }

  function reload(next: Config, nextHash: string, request: ReloadRequest): Promise<ReloadStatus> {
    return reloads.run(async () => {
      let outcome: { applied: string[]; restart: string[] };
      try {
        outcome = await applyReload(next, nextHash);
      } catch (err) {
        // Without a heartbeat socket this node must not hold anything: the caller hands over.
        if ((err as { transportLost?: boolean }).transportLost === true) throw err;
        return refuseReload(request.trigger, [(err as Error).message]);
      }
      const { applied, restart } = outcome;
      metrics.configReloads.inc({ result: 'applied' });
      lastReload = { at: new Date(clock.wallNow()).toISOString(), trigger: request.trigger, result: 'applied', problems: [], applied, restart: [...restart, ...(request.restartOnly ?? [])] };
      if (lastReload.restart.length > 0) log.warn({ event: 'reload-restart', restart: lastReload.restart }, `reload: ${lastReload.restart.join(', ')} take effect at the next restart`);
      return lastReload;
    });
  }

  function refuseReload(trigger: string, problems: readonly string[]): ReloadStatus {
    metrics.configReloads.inc({ result: 'refused' });
    log.error({ event: 'reload-refused', trigger, problems }, `reload refused (${problems.length} problem${problems.length === 1 ? '' : 's'}); running on as before`);
    lastReload = { at: new Date(clock.wallNow()).toISOString(), trigger, result: 'refused', problems, applied: [], restart: [] };
    return lastReload;
  }

  async function applyReload(next: Config, nextHash: string): Promise<{ applied: string[]; restart: string[] }> {
    const applied: string[] = [];
    const restart: string[] = [];
    if (next.node !== config.node) return { applied, restart: ['node'] };
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    const nextGroups = new Map(next.groups.map((g) => [g.id, g]));
    // A group whose VIPs changed is released as it was and taken again as it is; its preferred
    // node applies in place (the election simply runs again), its container at the next restart.
    const removed = config.groups.filter((g) => !same(g.vips, nextGroups.get(g.id)?.vips)).map((g) => g.id);
    const claimed = removed.filter((g) => claimOf(g) !== 'none');
    if (claimed.length > 0) {
      log.info({ event: 'reload', retiring: claimed }, `reload: releasing ${claimed.join(', ')} before applying`);
      const released = new Promise<'released'>((resolve) => (onRetired = () => resolve('released')));
      feed({ type: 'retire', groups: removed });
      const limitMs = Math.max(5_000, 3 * config.timing.deadtimeMs);
      let limit: unknown = null;
      const outcome = await Promise.race([released, new Promise<'timeout'>((r) => (limit = timers.setTimeout(() => r('timeout'), limitMs)))]);
      timers.clearTimeout(limit);
      onRetired = null;
      if (outcome === 'timeout') {
        log.error({ event: 'reload-release-timeout', groups: claimed }, 'reload: release did not finish in time: removing the VIPs directly');
        await executor.run(claimed.map((g): PlannedStep => ({ lane: 'vip', while: null, retry: false, step: { do: 'remove', group: g, vips: groupOf(g).vips, purpose: 'release' } })));
      }
    } else if (removed.length > 0) {
      feed({ type: 'retire', groups: removed });
    }
    if (removed.length > 0 || next.groups.length !== config.groups.length) applied.push('groups');
    if (!same(config.timing, next.timing)) applied.push('timing');
    if (!same(config.auth, next.auth)) applied.push('keys');
    if (config.autoFailback !== next.autoFailback) applied.push('auto_failback');
    if (config.groups.some((g) => nextGroups.has(g.id) && nextGroups.get(g.id)!.preferred !== g.preferred)) applied.push('preferred');
    const transportChanged = next.port !== config.port || !same(config.paths, next.paths) || !same(config.nodes.map((n) => n.name), next.nodes.map((n) => n.name));
    if (!same(config.nodes, next.nodes)) applied.push('nodes');
    const timersChanged = next.reconcileMs !== config.reconcileMs || renewMsOf(next) !== renewMsOf(config) || next.garp.refreshMs !== config.garp.refreshMs;
    if (transportChanged && deps.transportFor === undefined) restart.push('port and paths');
    if (transportChanged && deps.transportFor !== undefined) {
      // Peers stay as they were: the new socket is up well within deadtime. Should it not come up
      // (the port taken, an interface without its address), the old one is opened again and the
      // reload refused, so this node is never left holding VIPs with no heartbeat.
      await transport.stop();
      try {
        transport = deps.transportFor(next);
        await transport.start(onDatagram);
      } catch (err) {
        transport = deps.transportFor(config);
        await transport.start(onDatagram).catch((again: unknown) => {
          throw Object.assign(new Error(`the heartbeat socket is lost: neither the new nor the old one opens (${(again as Error).message})`, { cause: again }), { transportLost: true });
        });
        feed({ type: 'retire', groups: [] });
        throw new Error(`the heartbeat socket for the new port or paths did not open (${(err as Error).message}); the old one is open again`, { cause: err });
      }
      applied.push('transport');
    }

    const previous = config;
    config = next;
    configHash = nextHash;
    setConfigInfo(metrics, nextHash);
    engine = createEngine(next);
    state = engine.adopt(state, clock.now());
    sendKey = sendKeyOf(next);
    groupsById = new Map(next.groups.map((g) => [g.id, g]));
    initGroupMetrics(next.groups.filter((g) => !previous.groups.some((p) => p.id === g.id)));
    upkeep.updateGauges();
    if (timersChanged) {
      stopTimers();
      startTimers();
    }
    if (transportChanged) initPeerSeries(metrics, peersOf(next), transport.pathIds);
    for (const key of ['vipLeaseSec', 'garp', 'pingNodes'] as const) if (!same(previous[key], next[key])) applied.push(key);
    feed({ type: 'tick' });
    log.info({ event: 'reload', applied, restart }, `reload applied${applied.length > 0 ? `: ${applied.join(', ')}` : ' (no change)'}`);
    return { applied, restart };
  }

  async function stop(graceMs: number): Promise<{ vipsGone: boolean }> {
    let vipsGone = true;
    const stopped = new Promise<void>((resolve) => (onStopped = resolve));
    const deadline = new Promise<'timeout'>((resolve) => timers.setTimeout(() => resolve('timeout'), graceMs));
    feed({ type: 'shutdown' });
    const outcome = await Promise.race([stopped.then(() => 'stopped' as const), deadline]);
    stopTimers();
    if (claimWake !== null) timers.clearTimeout(claimWake.handle);
    steps.cancelRepeats();
    if (outcome === 'timeout') {
      executor.cancel();
      // Past the grace period the engine could not finish; never exit with a VIP still assigned.
      log.error({ event: 'stop-timeout', graceMs }, 'graceful release did not finish in time: removing VIPs directly');
      await vips.remove(config.groups.flatMap((g) => g.vips)).catch((err: unknown) => {
        vipsGone = false;
        log.error({ err }, 'final VIP removal failed');
      });
      // A hung apply (a Docker call that never returns) must not keep the process from exiting.
      await Promise.race([executor.idle(), new Promise((r) => timers.setTimeout(r as () => void, 100))]);
    } else {
      await executor.idle();
    }
    await Promise.all(inFlight);
    upkeep.stop();
    vips.close?.();
    await transport.stop();
    log.info({ event: 'stop', outcome }, 'left');
    return { vipsGone };
  }

  function snapshot(): StatusSnapshot {
    return describeStatus({ config, configHash, state, present: upkeep.present, lastTransition, recentTransitions: [...recentTransitions], now: clock.now(), pathIds: transport.pathIds, containers: deps.containers?.() ?? [], reload: lastReload, election: deps.election?.() ?? { backend: 'heartbeat' } });
  }

  function command(event: Extract<EngineEvent, { type: 'standby' | 'takeover' | 'maintenance' | 'health' | 'overrun' | 'authority' }>): void {
    if (event.type === 'health') metrics.healthy.set(event.healthy ? 1 : 0);
    else if (event.type === 'authority') log.debug({ event: 'authority', group: event.group, ...event.authority }, 'etcd election');
    else if (event.type !== 'overrun') log.info({ event: 'command', command: event.type, ...(event.type === 'maintenance' ? { enabled: event.enabled } : {}) }, `operator: ${event.type}`);
    feed(event);
  }

  return { start, stop, snapshot, claimOf, command, reload, refuseReload };
}

function sendKeyOf(config: Config): AuthKey {
  return config.auth.keys.find((k) => k.id === config.auth.sendKeyId) as AuthKey;
}

/** Ticks four times a keepalive, within 10–250 ms. */
/** The group a step is about; null for a renewal, which covers every held group. */
function groupOfStep(step: Step): string | null {
  return step.do === 'renew' ? null : step.group;
}

/** Enough for a failover and a failback of a few groups, with their intermediate claims. */
const RECENT_TRANSITIONS = 20;

function peersOf(config: Config): string[] {
  return config.nodes.map((n) => n.name).filter((n) => n !== config.node);
}

/** Transition reasons name a peer (`failback:cookbook`); metrics keep only the kind to bound labels. */
function reasonKind(reason: string): string {
  return reason.split(':')[0]!;
}
