/**
 * The etcd election's loop (quorum.ts) on a fake clock against an in-memory etcd with etcd's
 * rules (test/support/memory-store.ts). Each node's engine is stood in for by a claim that follows
 * the authority at once. A watchdog checks every 10 ms of fake time that at most one node holds,
 * and that a holder's lease is alive on the "server" for longer than any VIP lease it may give,
 * with the second the kernel may take to remove the VIP once that lease ran out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Claim } from '../domain/claims.js';
import type { CandidateRecord, StoreLostPolicy } from '../domain/election.js';
import type { ElectionStore } from '../store/types.js';
import { FakeTime } from '../../../test/support/fake-time.js';
import { MemoryEtcd } from '../../../test/support/memory-store.js';
import { KERNEL_EXPIRY_SLACK_MS } from '../domain/lease-timing.js';
import { createQuorum, type Quorum } from './quorum.js';

const TTL_SEC = 4;
const RENEW_MS = 1000;

interface Node {
  readonly name: string;
  readonly quorum: Quorum;
  holds(): boolean;
  /** When this node last stopped holding. */
  releasedAt: number | null;
  heldSince: number | null;
}

function cluster(names: readonly string[], opts: { onStoreLost?: StoreLostPolicy; preferred?: string; priorities?: Record<string, number>; store?: (node: string, store: ElectionStore) => ElectionStore } = {}) {
  const time = new FakeTime(1_000);
  const etcd = new MemoryEtcd(time);
  const problems: string[] = [];
  const nodes = new Map<string, Node>();
  for (const name of names) {
    let claim: Claim = 'none';
    const node: Node = {
      name,
      holds: () => claim === 'held',
      releasedAt: null,
      heldSince: null,
      quorum: createQuorum({
        store: opts.store?.(name, etcd.connect(name)) ?? etcd.connect(name),
        node: name,
        priority: opts.priorities?.[name] ?? 0,
        groups: [{ id: 'web', preferred: opts.preferred ?? null, vips: [], container: null }],
        autoFailback: true,
        leaseTtlSec: TTL_SEC,
        onStoreLost: opts.onStoreLost ?? 'release',
        vipLeaseSec: 2,
        claimOf: () => claim,
        grant: (_group, authority) => {
          const next: Claim = authority.granted ? 'held' : 'none';
          if (next === claim) return;
          claim = next;
          if (next === 'held') node.heldSince = time.now();
          else node.releasedAt = time.now();
          queueMicrotask(() => node.quorum.claimChanged('web'));
        },
        clock: time,
        timers: time,
        logger: pino({ level: process.env.QDEBUG ? 'debug' : 'silent' }).child({ node: name }),
      }),
    };
    nodes.set(name, node);
  }
  const watchdog = (unfenced: readonly string[] = []) =>
    time.setInterval(() => {
      const holding = [...nodes.values()].filter((n) => n.holds());
      if (holding.length > 1 && unfenced.length === 0) problems.push(`${time.now()}: ${holding.map((n) => n.name).join(' and ')} hold`);
      for (const n of holding) {
        if (unfenced.includes(n.name)) continue;
        const lease = n.quorum.status().lease;
        const server = lease === null ? undefined : etcd.leaseOf(lease);
        if (server === undefined) problems.push(`${time.now()}: ${n.name} holds without a live lease`);
        else if (time.now() + n.quorum.vipLeaseCapSec() * 1000 + KERNEL_EXPIRY_SLACK_MS > server.expiresAt) problems.push(`${time.now()}: ${n.name}'s VIP could outlive its lease`);
      }
    }, 10);
  const holders = () => [...nodes.values()].filter((n) => n.holds()).map((n) => n.name);
  return { time, etcd, nodes, problems, watchdog, holders, node: (n: string) => nodes.get(n)! };
}

async function started(c: ReturnType<typeof cluster>, unfenced: readonly string[] = []): Promise<void> {
  c.watchdog(unfenced);
  for (const n of c.nodes.values()) n.quorum.start();
  // A node that has just registered waits a renewal period before it campaigns (candidacy.ts).
  await c.time.advance(RENEW_MS + 100);
}

test('three nodes: one holds, as etcd says', async () => {
  const c = cluster(['alpha', 'beta', 'gamma'], { priorities: { beta: 10 } });
  await started(c);
  assert.deepEqual(c.holders(), ['beta'], 'the highest priority wins a vacant group');
  assert.equal(c.etcd.holder('web'), 'beta');
  await c.time.advance(30_000);
  assert.deepEqual(c.holders(), ['beta']);
  assert.deepEqual(c.problems, []);
});

test('a holder cut off from etcd lets go at its fence, a renewal period before its lease can expire; the next holder only after it expired', async () => {
  const c = cluster(['alpha', 'beta', 'gamma'], { priorities: { alpha: 10 } });
  await started(c);
  assert.deepEqual(c.holders(), ['alpha']);
  const lease = c.node('alpha').quorum.status().lease!;
  await c.time.advance(350);
  c.etcd.cut('alpha');
  await c.time.advance(10_000);
  const released = c.node('alpha').releasedAt!;
  const expired = c.etcd.expired.get(lease)!;
  assert.ok(released !== null && expired !== undefined);
  assert.ok(expired - released >= RENEW_MS, `released at ${released}, lease expired at ${expired}`);
  const next = c.holders();
  assert.equal(next.length, 1);
  assert.ok(c.node(next[0]!).heldSince! >= expired, 'the next holder took over before the old lease ended');
  assert.ok(c.node(next[0]!).heldSince! - expired <= 100, 'the next holder waited for nothing');
  assert.deepEqual(c.problems, []);
});

test('back from the cut, the old holder stands again but does not take the group back (no extra transition)', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  c.etcd.cut('alpha');
  await c.time.advance(10_000);
  assert.deepEqual(c.holders(), ['beta']);
  const betaSince = c.node('beta').heldSince;
  c.etcd.heal('alpha');
  await c.time.advance(10_000);
  assert.deepEqual(c.holders(), ['beta']);
  assert.equal(c.node('beta').heldSince, betaSince);
  assert.ok(c.node('alpha').quorum.status().storeReachable);
  assert.deepEqual(c.node('alpha').quorum.status().candidates, ['alpha', 'beta']);
  assert.deepEqual(c.problems, []);
});

test('on_store_lost keep: a holder that cannot reach etcd keeps the group past its fence, with full VIP leases', async () => {
  const c = cluster(['alpha', 'beta'], { onStoreLost: 'keep', priorities: { alpha: 10 } });
  await started(c, ['alpha']);
  c.etcd.cut('alpha');
  c.etcd.cut('beta');
  await c.time.advance(20_000);
  assert.deepEqual(c.holders(), ['alpha']);
  assert.equal(c.node('alpha').quorum.vipLeaseCapSec(), 2);
  // etcd back: the group is vacant (the lease expired); alpha creates it again without letting go
  c.etcd.heal('alpha');
  c.etcd.heal('beta');
  await c.time.advance(5_000);
  assert.deepEqual(c.holders(), ['alpha']);
  assert.equal(c.etcd.holder('web'), 'alpha');
  assert.equal(c.node('alpha').releasedAt, null);
});

test('on_store_lost release (the default): the same outage releases everything', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  c.etcd.cut('alpha');
  c.etcd.cut('beta');
  await c.time.advance(20_000);
  assert.deepEqual(c.holders(), []);
  assert.equal(c.node('alpha').quorum.vipLeaseCapSec(), 0);
  c.etcd.heal('alpha');
  c.etcd.heal('beta');
  await c.time.advance(5_000);
  assert.deepEqual(c.holders(), ['alpha']);
  assert.deepEqual(c.problems, []);
});

test('standby through the store: the holder releases, then deletes its key, and another node takes the group at once', async () => {
  const c = cluster(['alpha', 'beta', 'gamma'], { priorities: { alpha: 10, beta: 5 } });
  await started(c);
  const at = c.time.now();
  c.node('alpha').quorum.command({ type: 'standby' });
  await c.time.advance(50);
  assert.deepEqual(c.holders(), ['beta']);
  assert.ok(c.node('beta').heldSince! >= c.node('alpha').releasedAt!);
  assert.ok(c.node('beta').heldSince! - at < 50);
  // a standby node still takes over when nobody else can
  c.etcd.cut('beta');
  c.etcd.cut('gamma');
  await c.time.advance(10_000);
  assert.deepEqual(c.holders(), ['alpha']);
  assert.deepEqual(c.problems, []);
});

test('takeover through the store: the group moves to the node that asked, across the cluster', async () => {
  const c = cluster(['alpha', 'beta', 'gamma'], { preferred: 'alpha' });
  await started(c);
  assert.deepEqual(c.holders(), ['alpha']);
  c.node('gamma').quorum.command({ type: 'takeover' });
  await c.time.advance(50);
  assert.deepEqual(c.holders(), ['gamma']);
  await c.time.advance(10_000);
  assert.deepEqual(c.holders(), ['gamma'], 'the takeover outranks auto_failback to the preferred node');
  assert.deepEqual(c.problems, []);
});

test('maintenance: the holder hands on and never campaigns, even when alone; unhealthy hands on only to a fit node', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  c.node('alpha').quorum.command({ type: 'health', healthy: false });
  await c.time.advance(50);
  assert.deepEqual(c.holders(), ['beta']);
  c.node('beta').quorum.command({ type: 'maintenance', enabled: true });
  await c.time.advance(5_000);
  assert.deepEqual(c.holders(), [], 'as in the heartbeat election, an unfit node acquires nothing');
  c.node('alpha').quorum.command({ type: 'health', healthy: true });
  await c.time.advance(50);
  assert.deepEqual(c.holders(), ['alpha']);
  c.etcd.cut('alpha');
  await c.time.advance(10_000);
  assert.deepEqual(c.holders(), [], 'beta in maintenance holds nothing, even alone');
  assert.deepEqual(c.problems, []);
});

test('stop revokes the lease: its keys go at once and another node takes over without waiting for the TTL', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  await c.node('alpha').quorum.stop({ revoke: true });
  await c.time.advance(50);
  assert.deepEqual(c.holders().filter((h) => h !== 'alpha'), ['beta']);
});

test('a stop that could not remove the VIP leaves the lease to expire: nobody else is granted the group before it', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  const lease = c.node('alpha').quorum.status().lease!;
  const expiresAt = c.etcd.leaseOf(lease)!.expiresAt;
  await c.node('alpha').quorum.stop({ revoke: false });
  await c.time.advance(50);
  assert.deepEqual(c.holders().filter((h) => h !== 'alpha'), [], 'beta waits: alpha may still have the VIP');
  await c.time.advance(expiresAt - c.time.now() + 3_000);
  assert.deepEqual(c.holders().filter((h) => h !== 'alpha'), ['beta'], 'beta holds once the lease has run out');
  assert.ok((c.node('beta').heldSince ?? 0) >= expiresAt, 'never before the expiry');
});

test('a node restarted within the TTL does not take its old key for its own: it holds only once that lease has expired', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  assert.deepEqual(c.holders(), ['alpha']);
  const oldLease = c.node('alpha').quorum.status().lease!;
  const oldExpiry = c.etcd.leaseOf(oldLease)!.expiresAt;
  // kill -9: the process is gone without a word; its lease runs on in etcd.
  await c.node('alpha').quorum.stop({ revoke: false });
  let claim: Claim = 'none';
  let heldAt: number | null = null;
  const again: Quorum = createQuorum({
    store: c.etcd.connect('alpha'),
    node: 'alpha',
    priority: 10,
    groups: [{ id: 'web', preferred: null, vips: [], container: null }],
    autoFailback: true,
    leaseTtlSec: TTL_SEC,
    onStoreLost: 'release',
    vipLeaseSec: 2,
    claimOf: () => claim,
    grant: (_group, authority) => {
      claim = authority.granted ? 'held' : 'none';
      if (claim === 'held') heldAt ??= c.time.now();
      queueMicrotask(() => again.claimChanged('web'));
    },
    clock: c.time,
    timers: c.time,
    logger: pino({ level: 'silent' }),
  });
  again.start();
  await c.time.advance(RENEW_MS + 100);
  assert.equal(claim, 'none', "the key still under the old lease is not the new run's");
  assert.match(again.status().holders['web'] ?? '', /earlier lease/);
  await c.time.advance(oldExpiry - c.time.now() + 3 * RENEW_MS);
  assert.equal(claim, 'held', 'held again once the old lease expired');
  assert.ok(heldAt! >= oldExpiry, `held at ${heldAt}, the old lease expired at ${oldExpiry}`);
  await again.stop({ revoke: true });
});

test('a publish that failed is made again after the next renewal: the cluster sees the node in maintenance', async () => {
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 } });
  await started(c);
  c.etcd.cut('alpha');
  c.node('alpha').quorum.command({ type: 'maintenance', enabled: true });
  await c.time.advance(10);
  c.etcd.heal('alpha');
  await c.time.advance(2 * RENEW_MS);
  assert.equal(c.etcd.record('alpha')?.maintenance, true, "alpha's record says maintenance");
  assert.deepEqual(c.holders(), ['beta']);
});

/**
 * A store whose record and takeover writes, once `holding`, wait until the test lets them reach
 * etcd, in whatever order it chooses: as copies of a write sent to every member can commit late.
 */
function outOfOrder(inner: ElectionStore) {
  const held: { what: string; commit: () => void }[] = [];
  const state = { holding: false };
  const hold = <T>(what: string, write: () => Promise<T>): Promise<T> =>
    state.holding ? new Promise<T>((resolve, reject) => held.push({ what, commit: () => void write().then(resolve, reject) })) : write();
  const store: ElectionStore = {
    ...inner,
    register: (lease, node, record: CandidateRecord) => hold(`maintenance ${record.maintenance}`, () => inner.register(lease, node, record)),
    takeover: (node) => hold(`takeover ${node}`, () => inner.takeover(node)),
  };
  return { store, held, state };
}

test('record writes are one at a time, the newest last: maintenance on then off ends off, however the writes complete', async () => {
  let alpha: ReturnType<typeof outOfOrder> | null = null;
  const c = cluster(['alpha', 'beta'], { priorities: { alpha: 10 }, store: (node, store) => (node === 'alpha' ? (alpha = outOfOrder(store)).store : store) });
  await started(c);
  const w = alpha!;
  w.state.holding = true;
  for (const enabled of [true, false, true, false]) c.node('alpha').quorum.command({ type: 'maintenance', enabled });
  await c.time.advance(1);
  assert.deepEqual(w.held.map((h) => h.what), ['maintenance true'], 'one write in flight; the rest wait');
  // Complete the newest first, as a late copy would: with one in flight, the order cannot invert.
  while (w.held.length > 0) {
    w.held.pop()!.commit();
    await c.time.advance(1);
  }
  assert.equal(c.etcd.record('alpha')?.maintenance, false, "alpha's last word stands");
  w.state.holding = false;
  await c.time.advance(2 * RENEW_MS);
  assert.deepEqual(c.holders(), ['alpha'], 'out of maintenance, the best node holds');
  assert.deepEqual(c.problems, []);
});

test('takeover writes are one at a time: a second takeover waits for the first, and two waiting become one', async () => {
  let gamma: ReturnType<typeof outOfOrder> | null = null;
  const c = cluster(['alpha', 'beta', 'gamma'], { preferred: 'alpha', store: (node, store) => (node === 'gamma' ? (gamma = outOfOrder(store)).store : store) });
  await started(c);
  const w = gamma!;
  w.state.holding = true;
  for (let i = 0; i < 3; i++) c.node('gamma').quorum.command({ type: 'takeover' });
  await c.time.advance(1);
  const takeovers = () => w.held.filter((h) => h.what.startsWith('takeover'));
  assert.equal(takeovers().length, 1, 'one in flight');
  let written = 0;
  while (w.held.length > 0) {
    const next = w.held.shift()!;
    if (next.what.startsWith('takeover')) written++;
    next.commit();
    await c.time.advance(1);
  }
  assert.equal(written, 2, 'the two that waited were written once');
  w.state.holding = false;
  await c.time.advance(50);
  assert.deepEqual(c.holders(), ['gamma']);
  assert.deepEqual(c.problems, []);
});

test('renewals are sent every renewal period however long etcd takes to answer, so the VIP keeps a whole second except while one is in flight', async () => {
  const ANSWER_MS = 100;
  const sent: number[] = [];
  let time: FakeTime | null = null;
  const slow = (inner: ElectionStore): ElectionStore => {
    const late = <T>(call: () => Promise<T>): Promise<T> => new Promise((resolve, reject) => time!.setTimeout(() => void call().then(resolve, reject), ANSWER_MS));
    return {
      ...inner,
      keepalive: (lease) => {
        sent.push(time!.now());
        return late(() => inner.keepalive(lease));
      },
      read: () => late(() => inner.read()),
    };
  };
  const c = cluster(['alpha'], { store: (_node, store) => slow(store) });
  time = c.time;
  await started(c);
  const capZeroAt: number[] = [];
  c.time.setInterval(() => {
    if (c.node('alpha').holds() && c.node('alpha').quorum.vipLeaseCapSec() < 1) capZeroAt.push(c.time.now());
  }, 10);
  await c.time.advance(10_000);
  assert.ok(sent.length >= 8, `${sent.length} renewals`);
  assert.deepEqual(new Set(sent.slice(1).map((at, i) => at - sent[i]!)), new Set([RENEW_MS]), 'one renewal period apart, not one period after each answer and read');
  for (const at of capZeroAt) assert.ok(sent.some((s) => at >= s && at <= s + ANSWER_MS), `no whole second at ${at}, with no renewal in flight`);
  assert.deepEqual(c.holders(), ['alpha']);
  assert.deepEqual(c.problems, []);
});
