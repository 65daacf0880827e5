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
 * between two of them the fence is at least half the TTL away. A VIP's kernel lease is capped so
 * that the address is gone before the fence even if the daemon is frozen right after writing it:
 * the lease, plus the kernel's lateness in removing it (KERNEL_EXPIRY_SLACK_MS), counted from
 * when the write was issued, ends before the fence (vipLeaseCapSec).
 *
 * Pure: every function takes the time; the daemon (daemon/quorum.ts) feeds it real renewals. The
 * timing itself, which the configuration checks too, is in domain/lease-timing.ts.
 */
import { KERNEL_EXPIRY_SLACK_MS, type FenceTiming } from '../domain/lease-timing.js';

export interface Fence {
  /** The lease the deadline belongs to; null before one is granted and after it is lost. */
  readonly leaseId: string | null;
  /** When the holder must have let go (monotonic ms); null when nothing may be held. */
  readonly deadline: number | null;
}

export const NO_FENCE: Fence = { leaseId: null, deadline: null };

/**
 * A lease granted in answer to a request sent at `sentAt` for `ttlSec`, the TTL asked for: the
 * server started its TTL after we asked, and it never grants less than asked (it raises a TTL
 * under its minimum), so the fence is never later than the lease's end. From the first renewal
 * on, the fence follows the TTL the server reports (leaseRenewed).
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
 * The kernel lease a VIP may get from a write issued at `issuedAt`: whole seconds that, with the
 * kernel's lateness, end before the fence; at most `maxSec`. 0 means the VIP must not be written
 * at all (it could outlive the fence). Computed as each write is issued: a write retried later
 * (a fallback from the `ip` that stays to a spawned one) gets a shorter lease, not a stale one.
 */
export function vipLeaseCapSec(fence: Fence, issuedAt: number, maxSec: number): number {
  if (fence.deadline === null) return 0;
  return Math.max(0, Math.min(maxSec, Math.floor((fence.deadline - issuedAt - KERNEL_EXPIRY_SLACK_MS) / 1000)));
}
