/**
 * election: etcd, the daemon's side (docs/etcd.md): keeps this node's lease alive, publishes its
 * candidacy, follows etcd's keys, and tells the engine for each group whether it may hold it
 * (an `authority` event). What to do is decided by the pure parts: engine/candidacy.ts (who
 * should own a group) and engine/fence.ts (until when this node may hold anything); this file
 * only runs them on etcd's answers and the clock.
 *
 *   every quarter TTL: keepalive (its send time moves the fence), then a full read of the keys
 *   on every watched change, command, claim change, and at the fence: judge every group
 *     hold     → authority granted
 *     resign   → authority withdrawn; once the engine has released (claim none), delete our key
 *     campaign → create the vacant key; on success, the next judgement grants
 *
 * The engine releases as soon as authority is withdrawn, and the key goes only after the VIP, so
 * a planned move never has two holders; an unplanned one is covered by the fence.
 */
import type { Logger } from 'pino';
import type { Clock, Timers } from '../clock.js';
import type { Claim } from '../domain/claims.js';
import type { CandidateRecord, StoreLostPolicy, StoreView } from '../domain/election.js';
import type { GroupSpec } from '../domain/groups.js';
import { judge, type Verdict } from '../engine/candidacy.js';
import { fenceTiming, type FenceTiming } from '../domain/lease-timing.js';
import { fenceHolds, leaseGranted, leaseRenewed, NO_FENCE, vipLeaseCapSec, type Fence } from '../engine/fence.js';
import type { Authority } from '../engine/types.js';
import type { ElectionStore } from '../store/types.js';
import { createLatestWriter } from '../work/latest.js';
import type { ElectionStatus } from './status.js';

export interface QuorumDeps {
  readonly store: ElectionStore;
  readonly node: string;
  readonly priority: number;
  readonly groups: readonly GroupSpec[];
  readonly autoFailback: boolean;
  readonly leaseTtlSec: number;
  readonly onStoreLost: StoreLostPolicy;
  /** The VIP lease the configuration asks for; the fence may shorten it. */
  readonly vipLeaseSec: number;
  /** Each group's claim in the engine now. */
  readonly claimOf: (group: string) => Claim;
  /** Hands the engine a group's authority (only when it changes). */
  readonly grant: (group: string, authority: Authority) => void;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly logger: Logger;
}

/** What /status shows of the etcd election. */
export type QuorumStatus = Extract<ElectionStatus, { backend: 'etcd' }>;

export interface Quorum {
  start(): void;
  /**
   * Stops renewing. With `revoke`, the lease is revoked so that its keys go at once and the next
   * holder campaigns now; without it (a VIP may still be on the interface) the lease is left to
   * expire, after the VIP's capped kernel lease.
   */
  stop(opts: { revoke: boolean }): Promise<void>;
  command(event: { type: 'standby' } | { type: 'takeover' } | { type: 'maintenance'; enabled: boolean } | { type: 'health'; healthy: boolean }): void;
  /** The engine moved a claim: a resign may now delete its key. */
  claimChanged(group: string): void;
  /** The kernel lease a VIP may get now (0: must not be renewed). */
  vipLeaseCapSec(): number;
  status(): QuorumStatus;
}

/** How soon a renewal that etcd did not answer is tried again. */
const RETRY_MS = 250;

const EMPTY_VIEW: StoreView = { candidates: new Map(), holders: new Map(), holderLeases: new Map(), takeover: null };

export function createQuorum(d: QuorumDeps): Quorum {
  const { store, clock, timers } = d;
  const log = d.logger.child({ component: 'quorum' });
  const timing: FenceTiming = fenceTiming(d.leaseTtlSec);
  let fence: Fence = NO_FENCE;
  let view: StoreView = EMPTY_VIEW;
  let own: CandidateRecord = { priority: d.priority, healthy: true, standby: false, maintenance: false };
  let running = false;
  let reachable = false;
  let granting = false;
  /** Whether etcd has this node's current record; a failed publish is retried after the next renewal. */
  let published = false;
  let reading = false;
  let readAgain = false;
  let renewHandle: unknown = null;
  let fenceHandle: unknown = null;
  const authority = new Map<string, Authority>();
  const vacantSince = new Map<string, number>();
  /** Group keys being created or deleted: one store call per group at a time. */
  const busy = new Set<string>();
  /** After a failed create or delete, not again before this: etcd is down or cut off. */
  const retryAt = new Map<string, number>();
  const mayCall = (group: string) => !busy.has(group) && clock.now() >= (retryAt.get(group) ?? 0);
  const failed = (group: string) => retryAt.set(group, clock.now() + RETRY_MS);
  /** Groups held on, unfenced, after the fence passed (on_store_lost: keep). */
  const kept = new Set<string>();
  /** Nothing is judged before the first full read: an empty view would make every group look vacant. */
  let synced = false;
  /** When this node last stood under a new lease. */
  let registeredAt = -Infinity;
  /**
   * This node's record and the takeover key, each written one at a time and the newest last
   * (work/latest.ts): every write goes to every member, and two in flight at once could commit
   * in either order (maintenance on, then off, left on).
   */
  const records = createLatestWriter<{ lease: string; record: CandidateRecord }>(({ lease, record }) => store.register(lease, d.node, record));
  const takeovers = createLatestWriter<string>((node) => store.takeover(node));

  /** Whether this node may stand and hold now: running, with a lease whose fence holds. */
  function standing(now: number): boolean {
    return running && fenceHolds(fence, now);
  }

  /** Judges every group and hands the engine what changed. */
  function evaluate(): void {
    if (!running || !synced) return;
    const now = clock.now();
    const holds = standing(now);
    for (const g of d.groups) {
      const vacant = !view.holders.has(g.id);
      if (!vacant) vacantSince.delete(g.id);
      else if (!vacantSince.has(g.id)) vacantSince.set(g.id, now);
      const verdict = judge({
        self: d.node,
        group: g,
        autoFailback: d.autoFailback,
        view,
        own,
        standing: holds,
        vacantForMs: vacant ? now - Math.max(vacantSince.get(g.id)!, registeredAt) : 0,
        // Longer than a fresh node's wait, so that when all stand at once the best goes first.
        vacantGraceMs: 2 * timing.renewEveryMs,
        fresh: now - registeredAt < timing.renewEveryMs,
      });
      if (keeps(g.id, verdict, holds)) continue;
      act(g.id, verdict);
    }
  }

  /**
   * on_store_lost: keep. A holder whose fence passed keeps its groups, unfenced, until etcd shows
   * another owner; when it reaches etcd again with the group still vacant, it holds on while it
   * creates the key anew. Whether this applies to a group: true when it does (and acts on it).
   */
  function keeps(group: string, verdict: Verdict, holds: boolean): boolean {
    if (d.onStoreLost !== 'keep' || authority.get(group)?.granted !== true) return false;
    if (!holds && !kept.has(group) && (verdict.kind === 'resign' || verdict.kind === 'wait')) {
      kept.add(group);
      log.error({ event: 'store-lost', group, policy: 'keep' }, `${group}: etcd lease not renewed before the fence: keeping the VIPs, unfenced (on_store_lost: keep)`);
    }
    if (!kept.has(group)) return false;
    if (verdict.kind === 'hold' || (verdict.kind === 'wait' && verdict.holder !== null)) {
      kept.delete(group);
      return false;
    }
    if (verdict.kind === 'campaign') campaign(group);
    return true;
  }

  function act(group: string, verdict: Verdict): void {
    switch (verdict.kind) {
      case 'hold':
        set(group, { granted: true, reason: verdict.reason });
        return;
      case 'resign':
        set(group, { granted: false, reason: verdict.reason });
        if (d.claimOf(group) === 'none') resign(group);
        return;
      case 'campaign':
        set(group, { granted: false, reason: 'campaigning' });
        campaign(group);
        return;
      case 'wait':
        set(group, { granted: false, reason: verdict.holder !== null ? `elected:${verdict.holder}` : fenceHolds(fence, clock.now()) ? 'not-elected' : 'fence' });
        return;
    }
  }

  function set(group: string, next: Authority): void {
    const was = authority.get(group);
    if (was?.granted === next.granted && was.reason === next.reason) return;
    authority.set(group, next);
    d.grant(group, next);
  }

  /** Creates the group's key; only with nothing claimed, unless we hold it on, unfenced (keeps). */
  function campaign(group: string): void {
    const lease = fence.leaseId;
    if (lease === null || !mayCall(group) || (d.claimOf(group) !== 'none' && !kept.has(group))) return;
    busy.add(group);
    void store
      .claim(lease, group, d.node)
      .then((won) => {
        if (won) {
          log.info({ event: 'won', group }, `${group}: elected in etcd`);
          view = { ...view, holders: new Map(view.holders).set(group, d.node) };
        } else return refresh();
      })
      .catch((err: unknown) => {
        failed(group);
        log.warn({ event: 'campaign-failed', group, err: (err as Error).message }, `${group}: cannot reach etcd to campaign`);
      })
      .finally(() => {
        busy.delete(group);
        evaluate();
      });
  }

  function resign(group: string): void {
    const lease = fence.leaseId;
    if (lease === null || !mayCall(group)) return;
    busy.add(group);
    void store
      .resign(lease, group)
      .then(() => {
        const holders = new Map(view.holders);
        if (holders.get(group) === d.node) holders.delete(group);
        view = { ...view, holders };
        log.info({ event: 'resigned', group }, `${group}: handed on in etcd`);
      })
      .catch((err: unknown) => {
        failed(group);
        log.warn({ event: 'resign-failed', group, err: (err as Error).message }, `${group}: cannot reach etcd to resign; the lease ends it`);
      })
      .finally(() => {
        busy.delete(group);
        evaluate();
      });
  }

  /** A new lease (after start, or after etcd said ours is gone), then our candidacy under it. */
  async function newLease(): Promise<void> {
    if (granting || !running) return;
    granting = true;
    const sentAt = clock.now();
    try {
      const id = await store.grant(d.leaseTtlSec);
      if (!running) {
        // Stopped while the grant was on its way: nothing may be held or published under it.
        await store.revoke(id).catch(() => {});
        return;
      }
      fence = leaseGranted(id, sentAt, d.leaseTtlSec, timing);
      registeredAt = clock.now();
      reachable = true;
      log.info({ event: 'lease', lease: id, ttlSec: d.leaseTtlSec }, 'etcd lease granted');
      scheduleFence();
      await publish();
      await refresh();
    } catch (err) {
      reachable = false;
      log.warn({ event: 'lease-failed', err: (err as Error).message }, 'cannot get an etcd lease; retrying');
    } finally {
      granting = false;
    }
  }

  async function publish(): Promise<void> {
    if (fence.leaseId === null) return;
    published = false;
    const record = own;
    try {
      await records.write({ lease: fence.leaseId, record });
      // A command that came meanwhile publishes again; this one is current only if none did
      // (a newer record that replaced this one settles it too).
      published = record === own;
    } catch (err) {
      log.warn({ event: 'register-failed', err: (err as Error).message }, 'cannot publish this node in etcd; retrying with the next renewal');
    }
  }

  /**
   * A group key with our name under another lease is a previous run's (a restart within the
   * TTL): nothing renews that lease, so it expires on a schedule our fence knows nothing of. It
   * counts as another node's until it is gone; then the group is vacant and we stand again.
   */
  function ownedUnderThisLease(read: StoreView): StoreView {
    const holders = new Map(read.holders);
    for (const [group, node] of read.holders) {
      const lease = read.holderLeases.get(group);
      if (node === d.node && lease !== fence.leaseId) holders.set(group, `${d.node} (earlier lease ${lease ?? 'unknown'})`);
    }
    return { ...read, holders };
  }

  /** Reads every key again; a change that comes during a read is read once more after it. */
  async function refresh(): Promise<void> {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      view = ownedUnderThisLease(await store.read());
      synced = true;
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'cannot read etcd');
    } finally {
      reading = false;
    }
    evaluate();
    if (readAgain) {
      readAgain = false;
      return refresh();
    }
  }

  /**
   * Renewals follow each other every renewal period, counted from when the last answered one was
   * sent, not from when its answer and the read after it came back: so while etcd answers, the
   * fence never comes nearer than half the TTL, which the VIP's kernel lease counts on
   * (domain/lease-timing.ts, maxVipLeaseSec). One that failed is tried again soon (a member that
   * died, an election among the others), so that a short etcd hiccup is bridged long before the
   * fence.
   */
  function scheduleRenewal(afterMs: number): void {
    if (!running) return;
    renewHandle = timers.setTimeout(() => {
      renewHandle = null;
      void renew().then((ok) => scheduleRenewal(ok ? nextRenewalInMs() : Math.min(timing.renewEveryMs, RETRY_MS)));
    }, afterMs);
  }

  /**
   * A renewal period after the send of the request that set the fence (the send the fence stands
   * for, at the TTL asked for); at once if that is past.
   */
  function nextRenewalInMs(): number {
    if (fence.deadline === null) return RETRY_MS;
    const sentAt = fence.deadline - timing.ttlMs + timing.marginMs;
    return Math.max(0, sentAt + timing.renewEveryMs - clock.now());
  }

  /** Keepalive (or a new lease), then read everything again; whether etcd answered. */
  async function renew(): Promise<boolean> {
    if (!running) return false;
    const lease = fence.leaseId;
    if (lease === null) {
      await newLease();
      return fence.leaseId !== null;
    }
    const sentAt = clock.now();
    let lost = false;
    try {
      const ttlSec = await store.keepalive(lease);
      reachable = true;
      lost = ttlSec <= 0;
      fence = lost ? NO_FENCE : leaseRenewed(fence, lease, sentAt, ttlSec, timing);
      scheduleFence();
    } catch (err) {
      if (reachable) log.warn({ event: 'renew-failed', err: (err as Error).message, fenceInMs: fence.deadline === null ? null : Math.round(fence.deadline - clock.now()) }, 'etcd lease not renewed');
      reachable = false;
      evaluate();
      return false;
    }
    if (!lost) {
      if (!published) await publish();
      await refresh();
      return true;
    }
    // Our keys went with the lease: let go of everything, then stand again under a new one.
    log.error({ event: 'lease-lost', lease }, 'etcd lease expired: releasing everything and starting over');
    view = { ...view, holders: new Map([...view.holders].filter(([, n]) => n !== d.node)) };
    evaluate();
    await newLease();
    return fence.leaseId !== null;
  }

  /** Wakes at the fence, so an unrenewed holder lets go on time even if nothing else happens. */
  function scheduleFence(): void {
    if (fenceHandle !== null) timers.clearTimeout(fenceHandle);
    fenceHandle = null;
    if (fence.deadline === null) return;
    fenceHandle = timers.setTimeout(() => {
      fenceHandle = null;
      // A timer may fire a fraction of a millisecond before the monotonic clock reaches the
      // fence: then it waits again rather than leave the fence unwatched.
      if (fenceHolds(fence, clock.now())) return scheduleFence();
      log.error({ event: 'fence', policy: d.onStoreLost }, 'etcd lease not renewed before the fence');
      evaluate();
    }, Math.max(1, Math.ceil(fence.deadline - clock.now())));
  }

  return {
    start() {
      running = true;
      // A watched change is a cue to read, not a fact to apply: a watch served by a member that
      // was cut off replays old changes (an expired owner's delete) after the new owner's put.
      store.watch(() => void refresh());
      void newLease().then(() => scheduleRenewal(nextRenewalInMs()));
    },
    async stop({ revoke }) {
      running = false;
      if (renewHandle !== null) timers.clearTimeout(renewHandle);
      if (fenceHandle !== null) timers.clearTimeout(fenceHandle);
      const lease = fence.leaseId;
      fence = NO_FENCE;
      if (lease !== null && !revoke) log.warn({ event: 'lease-left', lease }, 'a VIP may still be assigned here: the etcd lease is left to expire, after its kernel lease');
      if (lease !== null && revoke) await store.revoke(lease).catch((err: unknown) => log.warn({ event: 'revoke-failed', err: (err as Error).message }, 'cannot revoke the etcd lease; it expires by itself'));
      store.close();
    },
    command(event) {
      if (event.type === 'standby') own = { ...own, standby: true };
      else if (event.type === 'maintenance') own = { ...own, maintenance: event.enabled };
      else if (event.type === 'health') own = { ...own, healthy: event.healthy };
      else {
        own = { ...own, standby: false };
        void takeovers.write(d.node).then(refresh, (err: unknown) => log.warn({ event: 'takeover-failed', err: (err as Error).message }, 'cannot record the takeover in etcd'));
      }
      evaluate();
      void publish();
    },
    claimChanged() {
      // Called from inside the engine's step (a transition): judge once that step is done.
      queueMicrotask(evaluate);
    },
    vipLeaseCapSec() {
      // keep is unfenced by choice: a VIP cut short before the fence would drop it just before
      // the policy keeps it.
      if (d.onStoreLost === 'keep') return d.vipLeaseSec;
      return vipLeaseCapSec(fence, clock.now(), d.vipLeaseSec);
    },
    status() {
      return {
        backend: 'etcd',
        lease: fence.leaseId,
        fenceInMs: fence.deadline === null ? null : Math.round(fence.deadline - clock.now()),
        storeReachable: reachable,
        onStoreLost: d.onStoreLost,
        candidates: [...view.candidates.keys()].sort(),
        holders: Object.fromEntries(d.groups.map((g) => [g.id, view.holders.get(g.id) ?? null])),
      };
    },
  };
}
