/**
 * Fencing by time (fence.ts): a holder lets go a margin before its etcd lease can expire, and a
 * VIP never gets a kernel lease that outlives that moment. Times are plain numbers (ms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fenceHolds, fenceTiming, leaseGranted, leaseRenewed, NO_FENCE, vipLeaseCapSec } from './fence.js';

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

test('a VIP gets whole seconds that end before the fence, at most vip_lease, and none past it', () => {
  const f = leaseGranted('L1', 0, 4, timing); // fence at 3000
  assert.equal(vipLeaseCapSec(f, 0, 2), 2);
  assert.equal(vipLeaseCapSec(f, 900, 2), 2);
  assert.equal(vipLeaseCapSec(f, 1500, 2), 1);
  assert.equal(vipLeaseCapSec(f, 2100, 2), 0);
  assert.equal(vipLeaseCapSec(f, 5000, 2), 0);
  assert.equal(vipLeaseCapSec(NO_FENCE, 0, 2), 0);
  for (let now = 0; now < 3000; now += 37) assert.ok(now + vipLeaseCapSec(f, now, 2) * 1000 <= 3000, `at ${now}`);
});

test('between two on-time renewals the cap never drops below the largest VIP lease allowed (half the TTL)', () => {
  let f = leaseGranted('L1', 0, 4, timing);
  for (let sent = 0; sent < 10_000; sent += timing.renewEveryMs) {
    f = leaseRenewed(f, 'L1', sent, 4, timing);
    for (let now = sent; now < sent + timing.renewEveryMs; now += 50) assert.ok(vipLeaseCapSec(f, now, 2) >= 2, `at ${now}`);
  }
});
