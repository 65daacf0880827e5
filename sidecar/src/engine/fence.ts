/**
 * Fencing by time, for election: etcd (docs/etcd.md, Fencing). A node holds its groups' keys
 * under one etcd lease; when the lease expires on the servers the keys vanish and another node
 * wins. Nothing tells a holder cut off from etcd that this happened, so it must let go on its
 * own clock, before the lease *can* have expired:
 *
 *   the servers restart a lease's TTL when they receive a keepalive, which is after we sent it;
 *   so a keepalive sent at `sentAt` (our monotonic clock) and answered keeps the lease alive on
 *   the servers at least until sentAt + TTL. The holder lets go a margin before that: the fence.
 *
 * The margin is one renewal period (a quarter of the TTL): time for the release to reach the
 * kernel, and for clocks that tick at slightly different rates. Renewals come every quarter, so
 * between two of them the fence is at least half the TTL away; a VIP renewed with a kernel lease
 * of at most that (vipLeaseCapSec) vanishes by itself before the fence, even if the daemon is
 * frozen right after renewing it.
 *
 * Pure: every function takes the time; the daemon (daemon/quorum.ts) feeds it real renewals.
 */

export interface FenceTiming {
  readonly ttlMs: number;
  /** How often the lease is renewed. */
  readonly renewEveryMs: number;
  /** How long before the earliest possible expiry the holder lets go. */
  readonly marginMs: number;
}

export function fenceTiming(leaseTtlSec: number): FenceTiming {
  const ttlMs = leaseTtlSec * 1000;
  const renewEveryMs = Math.floor(ttlMs / 4);
  return { ttlMs, renewEveryMs, marginMs: renewEveryMs };
}

export interface Fence {
  /** The lease the deadline belongs to; null before one is granted and after it is lost. */
  readonly leaseId: string | null;
  /** When the holder must have let go (monotonic ms); null when nothing may be held. */
  readonly deadline: number | null;
}

export const NO_FENCE: Fence = { leaseId: null, deadline: null };

/**
 * A lease granted in answer to a request sent at `sentAt`, for `ttlSec` as the server granted it
 * (which may differ from what was asked): the server started its TTL after we asked.
 */
export function leaseGranted(leaseId: string, sentAt: number, ttlSec: number, timing: FenceTiming): Fence {
  return { leaseId, deadline: sentAt + ttlSec * 1000 - timing.marginMs };
}

/**
 * A keepalive sent at `sentAt` was answered with the lease's fresh TTL. An answer for another
 * lease (one lost meanwhile) changes nothing, and neither does an older keepalive answered late:
 * the fence only moves forward.
 */
export function leaseRenewed(fence: Fence, leaseId: string, sentAt: number, ttlSec: number, timing: FenceTiming): Fence {
  if (fence.leaseId !== leaseId || fence.deadline === null) return fence;
  if (ttlSec <= 0) return NO_FENCE;
  return { leaseId, deadline: Math.max(fence.deadline, sentAt + ttlSec * 1000 - timing.marginMs) };
}

/** Whether a holder may still hold at `now`. */
export function fenceHolds(fence: Fence, now: number): boolean {
  return fence.deadline !== null && now < fence.deadline;
}

/**
 * The kernel lease a VIP may get at `now`: whole seconds that end before the fence, at most
 * `maxSec`. 0 means the VIP must not be renewed at all (it would outlive the fence).
 */
export function vipLeaseCapSec(fence: Fence, now: number, maxSec: number): number {
  if (fence.deadline === null) return 0;
  return Math.max(0, Math.min(maxSec, Math.floor((fence.deadline - now) / 1000)));
}
