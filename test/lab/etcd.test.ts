/**
 * election: etcd on real processes (docs/etcd.md): a three-member etcd (Debian's etcd-server, one
 * member per namespace) and three sidecars, a client probing the VIP every 10 ms and every host's
 * addresses sampled every 5 ms. Prints failover times and double-holder counts.
 *
 * Needs root and etcd: skipped on a laptop without them, failed in CI (requireEtcdLab).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { failures, longestGap, servedBy } from './analysis.js';
import { adminPost, etcdHealthy, etcdLabUnavailable, requireEtcdLab, split, startEtcdLab, type EtcdLab } from './etcd.js';
import { waitFor } from './netns.js';
import { LAB_VIP, transitionCount, watchDoubleHolders } from './sidecar.js';

const SIDECARS = ['alpha', 'beta', 'gamma'];
const MEMBERS = ['e1', 'e2', 'e3'];
// The least TTL the configuration accepts (domain/lease-timing.ts, MIN_LEASE_TTL_SEC).
const TTL_SEC = 4;
const SAMPLE_MS = 5;

describe('election: etcd, three sidecars and a three-member etcd', { concurrency: false }, () => {
  let e: EtcdLab;

  before(async () => {
    if (etcdLabUnavailable() !== null) return;
    e = await startEtcdLab('etcd', { sidecars: SIDECARS, members: MEMBERS, leaseTtlSec: TTL_SEC });
  });

  after(async () => e?.destroy());

  /** The one host holding the VIP once it is settled, within `timeoutMs`. */
  async function settledHolder(timeoutMs = 15_000): Promise<string> {
    let holder = '';
    await waitFor(
      async () => {
        const h = await e.lab.holders(LAB_VIP);
        holder = h[0] ?? '';
        return h.length === 1;
      },
      { what: 'one holder of the VIP', timeoutMs },
    );
    return holder;
  }

  /** A sidecar that was stopped runs again (and the VIP has one holder). */
  async function restore(host: string): Promise<void> {
    const s = e.sidecars.get(host)!;
    if (s.child.exitCode !== null || s.child.signalCode !== null) e.start(host);
    await settledHolder();
  }

  test('kill -9 of the holder: another node serves within the lease TTL + 1 s, never two holders', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const watch = await watchDoubleHolders(e.lab, SAMPLE_MS);
    const killedAt = e.prober.mark('kill -9');
    e.lab.kill(e.sidecars.get(holder)!.child, 'SIGKILL');
    const served = await e.prober.waitFor((r) => r.host !== null && r.host !== holder && r.sentAt > killedAt, (TTL_SEC + 5) * 1000);
    const w = await watch.stop();
    const failoverMs = served.sentAt - killedAt;
    t.diagnostic(`kill -9 of ${holder}: served by ${served.host} after ${failoverMs.toFixed(0)} ms (lease TTL ${TTL_SEC} s); double-holder samples ${w.double} of ${w.samples} (every ${SAMPLE_MS} ms, longest blind ${w.longestBlindMs.toFixed(0)} ms)`);
    assert.ok(failoverMs <= TTL_SEC * 1000 + 1000, `failover took ${failoverMs} ms`);
    assert.equal(w.double, 0);
    await restore(holder);
  });

  test('the holder cut off from every etcd member, clients still reaching it: it releases before anyone acquires', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const watch = await watchDoubleHolders(e.lab, SAMPLE_MS);
    const cutAt = e.prober.mark('cut from etcd');
    await split(e.lab, [holder], MEMBERS);
    t.after(() => e.lab.heal());
    const served = await e.prober.waitFor((r) => r.host !== null && r.host !== holder && r.sentAt > cutAt, (TTL_SEC + 5) * 1000);
    await sleep(500);
    const w = await watch.stop();
    const outage = longestGap(e.prober.records, cutAt, served.sentAt);
    const lastOld = e.prober.records.filter((r) => r.host === holder && r.sentAt > cutAt).reduce((m, r) => Math.max(m, r.sentAt), cutAt);
    t.diagnostic(`${holder} cut from etcd: last served by it ${(lastOld - cutAt).toFixed(0)} ms after the cut, ${served.host} from ${(served.sentAt - cutAt).toFixed(0)} ms (gap ${outage.ms.toFixed(0)} ms); double-holder samples ${w.double} of ${w.samples}`);
    assert.equal(w.double, 0);
    assert.ok(lastOld < served.sentAt, 'the old holder answered after the new one');
    await e.lab.heal();
    await sleep(TTL_SEC * 1000);
    assert.deepEqual(await e.lab.holders(LAB_VIP), [served.host], 'the holder changed again after the heal');
  });

  test('symmetric partition 2 | 1 with the holder in the minority: the majority holds, the minority nothing, no transition after the heal', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const others = SIDECARS.filter((h) => h !== holder);
    const [minorityMember, ...majorityMembers] = MEMBERS;
    const watch = await watchDoubleHolders(e.lab, SAMPLE_MS);
    const cutAt = e.prober.mark('partition 2|1');
    await split(e.lab, [holder, minorityMember!], [...others, ...majorityMembers]);
    t.after(() => e.lab.heal());
    const served = await e.prober.waitFor((r) => r.host !== null && others.includes(r.host) && r.sentAt > cutAt, (TTL_SEC + 5) * 1000);
    await sleep(1000);
    const during = await e.lab.holders(LAB_VIP);
    const w = await watch.stop();
    t.diagnostic(`2|1 partition, ${holder} with ${minorityMember} in the minority: ${served.host} serves after ${(served.sentAt - cutAt).toFixed(0)} ms; holders while cut: [${during.join(', ')}]; double-holder samples ${w.double} of ${w.samples}`);
    assert.deepEqual(during, [served.host]);
    assert.equal(w.double, 0);
    const transitionsBefore = await transitionCount(e.lab, SIDECARS);
    const healedAt = e.prober.mark('heal');
    await e.lab.heal();
    await sleep(2 * TTL_SEC * 1000);
    const transitionsAfter = await transitionCount(e.lab, SIDECARS);
    const gap = longestGap(e.prober.records, healedAt, e.lab.now());
    t.diagnostic(`after the heal: ${transitionsAfter - transitionsBefore} transitions, longest gap ${gap.ms.toFixed(0)} ms, holders [${(await e.lab.holders(LAB_VIP)).join(', ')}]`);
    assert.equal(transitionsAfter - transitionsBefore, 0);
    assert.deepEqual(await e.lab.holders(LAB_VIP), [served.host]);
  });

  test('one etcd member killed: no transition and no lost probe', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const transitionsBefore = await transitionCount(e.lab, SIDECARS);
    const victim = MEMBERS[0]!;
    const killedAt = e.prober.mark(`kill -9 ${victim}`);
    e.lab.kill(e.members.get(victim)!, 'SIGKILL');
    await sleep(3 * TTL_SEC * 1000);
    const until = e.lab.now();
    const transitions = (await transitionCount(e.lab, SIDECARS)) - transitionsBefore;
    const lost = failures(e.prober.records, { from: killedAt, to: until - 500 });
    const served = servedBy(e.prober.records, { from: killedAt, to: until - 500 });
    t.diagnostic(`etcd member ${victim} killed: ${transitions} transitions, ${lost} lost probes, served by ${JSON.stringify(served)}`);
    assert.equal(transitions, 0);
    assert.equal(lost, 0);
    assert.deepEqual(Object.keys(served), [holder]);
    e.startMember(victim);
    await waitFor(() => etcdHealthy(e.lab, victim), { what: `${victim} healthy again`, timeoutMs: 15_000 });
  });

  test('every etcd member stopped: on_store_lost release (the default): the holder lets go before its lease can expire, and nobody holds until etcd returns', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const stoppedAt = e.prober.mark('etcd stopped');
    for (const m of MEMBERS) e.lab.kill(e.members.get(m)!, 'SIGKILL');
    await waitFor(async () => (await e.lab.holders(LAB_VIP)).length === 0, { what: 'the VIP released', timeoutMs: TTL_SEC * 1000 + 2000 });
    const releasedMs = e.lab.now() - stoppedAt;
    await sleep(1000);
    const stillNone = (await e.lab.holders(LAB_VIP)).length === 0;
    const lastServed = e.prober.records.filter((r) => r.host === holder).reduce((m, r) => Math.max(m, r.sentAt), -Infinity);
    t.diagnostic(`every etcd member killed: ${holder} released after ${releasedMs.toFixed(0)} ms, last answered ${(lastServed - stoppedAt).toFixed(0)} ms after (lease TTL ${TTL_SEC} s); nobody held 1 s later: ${stillNone}`);
    assert.ok(releasedMs < TTL_SEC * 1000, `released only after ${releasedMs} ms`);
    assert.ok(stillNone);
    assert.ok(lastServed >= stoppedAt, 'the holder stopped serving before etcd did');
    const backAt = e.prober.mark('etcd back');
    for (const m of MEMBERS) e.startMember(m);
    const served = await e.prober.waitFor((r) => r.host !== null && r.sentAt > backAt, 30_000);
    t.diagnostic(`etcd back: served again by ${served.host} after ${(served.sentAt - backAt).toFixed(0)} ms`);
    await settledHolder();
  });

  // Last: the takeover it makes stands until the next one, and would decide the tests after it.
  test('standby, takeover and maintenance on one node act on every node through etcd, never with two holders', async (t) => {
    if (!requireEtcdLab(t)) return;
    const holder = await settledHolder();
    const watch = await watchDoubleHolders(e.lab, SAMPLE_MS);
    const moved = async (action: string, host: string, body: string, expect: (h: string) => boolean) => {
      const at = e.prober.mark(`${action} on ${host}`);
      await adminPost(e.lab, host, `/v1/${action}`, body);
      const served = await e.prober.waitFor((r) => r.host !== null && expect(r.host) && r.sentAt > at, 5000);
      return { host: served.host!, ms: served.sentAt - at, gap: longestGap(e.prober.records, at, served.sentAt).ms };
    };
    const standby = await moved('standby', holder, '{}', (h) => h !== holder);
    const takeover = await moved('takeover', holder, '{}', (h) => h === holder);
    const maintenance = await moved('maintenance', holder, '{"enabled":true}', (h) => h !== holder);
    await sleep(1000);
    const during = await e.lab.holders(LAB_VIP);
    await adminPost(e.lab, holder, '/v1/maintenance', '{"enabled":false}');
    await sleep(1000);
    const w = await watch.stop();
    t.diagnostic(
      `standby on ${holder}: ${standby.host} serves after ${standby.ms.toFixed(0)} ms (gap ${standby.gap.toFixed(0)} ms); takeover on ${holder}: after ${takeover.ms.toFixed(0)} ms (gap ${takeover.gap.toFixed(0)} ms); ` +
        `maintenance on ${holder}: ${maintenance.host} after ${maintenance.ms.toFixed(0)} ms (gap ${maintenance.gap.toFixed(0)} ms); double-holder samples ${w.double} of ${w.samples}`,
    );
    assert.deepEqual(during, [maintenance.host]);
    // its takeover still stands (until the next one), as in the heartbeat election
    assert.deepEqual(await e.lab.holders(LAB_VIP), [holder], 'the takeover did not outlast maintenance');
    assert.equal(w.double, 0);
  });
});

describe('election: etcd with on_store_lost: keep', { concurrency: false }, () => {
  let e: EtcdLab;

  before(async () => {
    if (etcdLabUnavailable() !== null) return;
    e = await startEtcdLab('etcd-keep', { sidecars: SIDECARS, members: MEMBERS, leaseTtlSec: TTL_SEC, onStoreLost: 'keep' });
  });

  after(async () => e?.destroy());

  test('every etcd member stopped: the holder keeps serving, unfenced, and keeps the group when etcd returns', async (t) => {
    if (!requireEtcdLab(t)) return;
    let holder = '';
    await waitFor(async () => ((holder = (await e.lab.holders(LAB_VIP))[0] ?? ''), holder !== ''), { what: 'a holder', timeoutMs: 15_000 });
    const transitionsBefore = await transitionCount(e.lab, SIDECARS);
    const stoppedAt = e.prober.mark('etcd stopped');
    for (const m of MEMBERS) e.lab.kill(e.members.get(m)!, 'SIGKILL');
    await sleep(3 * TTL_SEC * 1000);
    const during = await e.lab.holders(LAB_VIP);
    const lostWhileDown = failures(e.prober.records, { from: stoppedAt, to: e.lab.now() - 500 });
    const backAt = e.prober.mark('etcd back');
    for (const m of MEMBERS) e.startMember(m);
    await sleep(3 * TTL_SEC * 1000);
    const after = await e.lab.holders(LAB_VIP);
    const transitions = (await transitionCount(e.lab, SIDECARS)) - transitionsBefore;
    const lost = failures(e.prober.records, { from: stoppedAt, to: e.lab.now() - 500 });
    t.diagnostic(`on_store_lost keep, every etcd member killed for ${((backAt - stoppedAt) / 1000).toFixed(1)} s: holders [${during.join(', ')}] while down, [${after.join(', ')}] after; ${lostWhileDown} probes lost while down, ${lost} in all; ${transitions} transitions`);
    assert.deepEqual(during, [holder]);
    assert.deepEqual(after, [holder]);
    assert.equal(lost, 0);
    assert.equal(transitions, 0);
  });
});
