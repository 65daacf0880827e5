/**
 * The timing of election: etcd's lease (docs/etcd.md, Fencing), shared by the fence
 * (engine/fence.ts) and the configuration's checks: how often the lease is renewed, how long
 * before its earliest expiry a holder lets go, and so the longest kernel lease a VIP may get.
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

/**
 * How late the kernel may remove an address whose valid_lft has run out. No timer is set per
 * address: a periodic worker (check_lifetime in net/ipv4/devinet.c, addrconf_verify for IPv6)
 * compares each address's age in whole seconds, and schedules its next run rounded up to a whole
 * second and at least a second after the last. An address given N seconds can so still be there
 * almost N + 1 s after the kernel took it.
 */
export const KERNEL_EXPIRY_SLACK_MS = 1000;

/**
 * The longest kernel lease a VIP may always get under an etcd lease of `leaseTtlSec`: the cap
 * just before an on-time renewal, when the fence is nearest (the TTL less the margin and one
 * renewal period, half the TTL). vip_lease may not be longer, or renewals between two etcd
 * renewals would be cut short and the VIP could lapse while held. 0: the TTL is too short.
 */
export function maxVipLeaseSec(leaseTtlSec: number): number {
  const t = fenceTiming(leaseTtlSec);
  return Math.max(0, Math.floor((t.ttlMs - t.marginMs - t.renewEveryMs - KERNEL_EXPIRY_SLACK_MS) / 1000));
}

/** The shortest etcd lease TTL (whole seconds) under which a VIP may always get `vipLeaseSec`. */
export function leaseTtlForVipSec(vipLeaseSec: number): number {
  let ttl = 1;
  while (maxVipLeaseSec(ttl) < vipLeaseSec) ttl++;
  return ttl;
}

/** The shortest etcd lease TTL that leaves a VIP a whole second at every moment it is held. */
export const MIN_LEASE_TTL_SEC = leaseTtlForVipSec(1);
