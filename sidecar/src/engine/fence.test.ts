/**
 * Fencing by time (fence.ts): a holder lets go a margin before its etcd lease can expire, and a
 * VIP never gets a kernel lease that outlives that moment. Times are plain numbers (ms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fenceTiming, KERNEL_EXPIRY_SLACK_MS, leaseTtlForVipSec, maxVipLeaseSec, MIN_LEASE_TTL_SEC } from '../domain/lease-timing.js';
import { fenceHolds, leaseGranted, leaseRenewed, NO_FENCE, vipLeaseCapSec } from './fence.js';

const timing = fenceTiming(4);

test('the renewal period is a quarter of the TTL and the margin at least one renewal period', () => {
  assert.deepEqual(timing, { ttlMs: 4000, renewEveryMs: 1000, marginMs: 1000 });
  for (const ttl of [2, 3, 5, 7, 60]) {
    const t = fenceTiming(ttl);
    assert.ok(t.marginMs >= t.renewEveryMs, `ttl ${ttl}`);
    assert.ok(t.renewEveryMs * 4 <= t.ttlMs, `ttl ${ttl}`);
  }
});

test('the fence is the send time of the answered request plus the TTL, less the margin', () => {
  const f = leaseGranted('L1', 10_000, 4, timing);
  assert.equal(f.deadline, 13_000);
  assert.ok(fenceHolds(f, 12_999));
  assert.ok(!fenceHolds(f, 13_000));
  // Answered late does not help: what counts is when the keepalive left, which the server saw after.
  const renewed = leaseRenewed(f, 'L1', 11_000, 4, timing);
  assert.equal(renewed.deadline, 14_000);
});

test('before the lease can expire on the servers, the holder has let go by at least the margin', () => {
  let f = leaseGranted('L1', 0, 4, timing);
  let lastSent = 0;
  // renewals every period, some lost; the server expiry is last answered send + TTL at the earliest
  for (let sent = 1000; sent <= 20_000; sent += 1000) {
    if (sent % 3000 !== 0) {
      f = leaseRenewed(f, 'L1', sent, 4, timing);
      lastSent = sent;
    }
    const serverExpiryAtLeast = lastSent + 4000;
    assert.ok(f.deadline! <= serverExpiryAtLeast - timing.renewEveryMs, `after sending at ${sent}`);
  }
});

test('the fence only moves forward, and only for its own lease', () => {
  const f = leaseGranted('L1', 5000, 4, timing);
  assert.equal(leaseRenewed(f, 'L1', 4000, 4, timing).deadline, f.deadline, 'an older keepalive answered late');
  assert.equal(leaseRenewed(f, 'L0', 9000, 4, timing), f, 'an answer for a lease lost before');
  assert.equal(leaseRenewed(NO_FENCE, 'L1', 9000, 4, timing), NO_FENCE);
});

test('a keepalive answered with TTL 0 (the lease is gone) ends the fence at once', () => {
  const f = leaseRenewed(leaseGranted('L1', 0, 4, timing), 'L1', 1000, 0, timing);
  assert.deepEqual(f, NO_FENCE);
  assert.ok(!fenceHolds(f, 1000));
});

test('a VIP gets whole seconds that, with the kernel removing it up to a second late, end before the fence; at most vip_lease, and none past it', () => {
  const f = leaseGranted('L1', 0, 4, timing); // fence at 3000
  assert.equal(KERNEL_EXPIRY_SLACK_MS, 1000);
  assert.equal(vipLeaseCapSec(f, 0, 5), 2);
  assert.equal(vipLeaseCapSec(f, 0, 1), 1, 'at most vip_lease');
  assert.equal(vipLeaseCapSec(f, 900, 5), 1);
  assert.equal(vipLeaseCapSec(f, 1001, 5), 0, 'issued 1001 ms in: 1 s of lease and 1 s of lateness would end at 3001');
  assert.equal(vipLeaseCapSec(f, 5000, 2), 0);
  assert.equal(vipLeaseCapSec(NO_FENCE, 0, 2), 0);
  for (let issuedAt = 0; issuedAt < 3000; issuedAt += 37) {
    const cap = vipLeaseCapSec(f, issuedAt, 5);
    assert.ok(cap === 0 || issuedAt + cap * 1000 + KERNEL_EXPIRY_SLACK_MS <= 3000, `issued at ${issuedAt}`);
  }
});

test('the longest VIP lease a TTL allows is the cap just before an on-time renewal; under 4 s no whole second is left', () => {
  assert.deepEqual([3, 4, 5, 6, 8, 10].map(maxVipLeaseSec), [0, 1, 1, 2, 3, 4]);
  assert.equal(MIN_LEASE_TTL_SEC, 4);
  assert.equal(leaseTtlForVipSec(2), 6);
  for (const ttl of [MIN_LEASE_TTL_SEC, 5, 7, 9, 60]) {
    const t = fenceTiming(ttl);
    let f = leaseGranted('L1', 0, ttl, t);
    for (let sent = 0; sent < 4 * t.ttlMs; sent += t.renewEveryMs) {
      f = leaseRenewed(f, 'L1', sent, ttl, t);
      for (let now = sent; now < sent + t.renewEveryMs; now += 50) assert.ok(vipLeaseCapSec(f, now, maxVipLeaseSec(ttl)) === maxVipLeaseSec(ttl), `ttl ${ttl} at ${now}`);
    }
    assert.ok(maxVipLeaseSec(ttl) >= 1, `ttl ${ttl}`);
  }
});
