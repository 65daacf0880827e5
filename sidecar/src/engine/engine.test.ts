import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCluster } from '../../../test/support/cluster-sim.js';
import { createEngine } from './engine.js';
import type { EngineSettings } from './types.js';
import type { GroupSpec } from '../domain/groups.js';

const TIMING = { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 };

function group(id: string, preferred: string | null): GroupSpec {
  return { id, preferred, vips: [{ address: id, prefixLength: 24, iface: 'eth0', label: null, family: 4 }] };
}

function cluster(opts: {
  nodes?: { name: string; priority: number }[];
  groups?: GroupSpec[];
  autoFailback?: boolean;
  timing?: typeof TIMING;
}): EngineSettings[] {
  const nodes = opts.nodes ?? [
    { name: 'cookbook', priority: 0 },
    { name: 'cookbook2', priority: 0 },
  ];
  return nodes.map((n) => ({
    node: n.name,
    nodes,
    groups: opts.groups ?? [group('vip', 'cookbook')],
    timing: opts.timing ?? TIMING,
    autoFailback: opts.autoFailback ?? true,
  }));
}

/** Records the longest time two nodes held the group at once, checked after every event. */
function doubleHoldWatch(group: string) {
  let since: number | null = null;
  let longest = 0;
  let samples = 0;
  return {
    check: (sim: SimCluster) => {
      if (sim.holders(group).length > 1) {
        samples++;
        since ??= sim.now;
        longest = Math.max(longest, sim.now - since);
      } else since = null;
    },
    get longestMs() {
      return longest;
    },
    get samples() {
      return samples;
    },
  };
}

/** Advances until `predicate` holds, returning the time it took; fails after `limitMs`. */
function timeUntil(sim: SimCluster, limitMs: number, predicate: () => boolean, check?: (sim: SimCluster) => void): number {
  const start = sim.now;
  while (!predicate()) {
    if (sim.now - start > limitMs) assert.fail(`condition not met within ${limitMs} ms (claims ${JSON.stringify(sim.claims('vip'))})`);
    sim.advance(5, check);
  }
  return sim.now - start;
}

function reasons(sim: SimCluster, node: string, type: 'acquire' | 'release'): string[] {
  return sim.node(node).log.flatMap((a) => (a.type === type ? [a.reason] : []));
}

test('cold start of both at once: the preferred node holds, the other holds nothing', () => {
  const sim = new SimCluster(cluster({}));
  const watch = doubleHoldWatch('vip');
  const took = timeUntil(sim, 1000, () => sim.holders('vip').length === 1, watch.check);
  sim.advance(5000, watch.check);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
  assert.equal(sim.node('cookbook2').state.groups['vip']!.claim, 'none');
  assert.equal(watch.samples, 0);
  assert.ok(took < 500, `both heard each other, so no need to wait initdead; took ${took} ms`);
  assert.deepEqual(reasons(sim, 'cookbook', 'acquire'), ['elected']);
});

test('a node alone waits initdead before it takes anything', () => {
  const sim = new SimCluster(cluster({}));
  sim.crash('cookbook');
  sim.advance(2900);
  assert.deepEqual(sim.holders('vip'), []);
  sim.advance(200);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
});

test('the primary dies: the secondary takes over after deadtime, not before', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.crash('cookbook');
  const crashAt = sim.now;
  timeUntil(sim, 3000, () => sim.node('cookbook2').state.groups['vip']!.claim === 'held');
  const took = sim.now - crashAt;
  assert.ok(took >= TIMING.deadtimeMs - TIMING.keepaliveMs && took <= TIMING.deadtimeMs + 150, `took ${took} ms`);
  assert.match(reasons(sim, 'cookbook2', 'acquire').at(-1)!, /^peer-dead:cookbook$/);
  // The crashed node's VIP lingers only until its kernel lease runs out.
  sim.advance(2500);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
});

for (const autoFailback of [true, false]) {
  test(`the primary returns with auto_failback ${autoFailback ? 'on' : 'off'}`, () => {
    const sim = new SimCluster(cluster({ autoFailback }));
    sim.advance(2000);
    sim.crash('cookbook');
    sim.advance(3000);
    assert.deepEqual(sim.holders('vip'), ['cookbook2']);
    const watch = doubleHoldWatch('vip');
    sim.restart('cookbook');
    sim.advance(5000, watch.check);
    assert.equal(watch.samples, 0, 'a failback never has two holders');
    if (autoFailback) {
      assert.deepEqual(sim.holders('vip'), ['cookbook']);
      assert.deepEqual(reasons(sim, 'cookbook2', 'release'), ['failback:cookbook']);
    } else {
      assert.deepEqual(sim.holders('vip'), ['cookbook2']);
      assert.deepEqual(reasons(sim, 'cookbook2', 'release'), []);
    }
  });
}

/** Advances 1 ms at a time through a move of the group, returning the longest time nobody held it. */
function longestNoHolder(sim: SimCluster, limitMs: number, done: () => boolean): number {
  let since: number | null = null;
  let longest = 0;
  const start = sim.now;
  while (!done()) {
    if (sim.now - start > limitMs) assert.fail(`no move within ${limitMs} ms (claims ${JSON.stringify(sim.claims('vip'))})`);
    sim.advance(1);
    if (sim.holders('vip').length === 0) since ??= sim.now;
    else if (since !== null) {
      longest = Math.max(longest, sim.now - since);
      since = null;
    }
  }
  return longest;
}

test('failback by handshake: the returning node assigns as soon as the holder has let go, with no claim window', () => {
  const applyMs = 5;
  const sim = new SimCluster(cluster({}), { applyMs });
  sim.advance(2000);
  sim.crash('cookbook');
  sim.advance(3000);
  sim.restart('cookbook');
  const watch = doubleHoldWatch('vip');
  const gap = longestNoHolder(sim, 6000, () => sim.holders('vip').join() === 'cookbook');
  sim.advance(1000, watch.check);
  assert.equal(watch.samples, 0);
  // The holder's release settles it: one datagram (1 ms) and the assign; the claim window alone is ≥ 20 ms.
  assert.ok(gap <= applyMs + 2, `nobody held the group for ${gap} ms`);
  assert.match(reasons(sim, 'cookbook', 'acquire').at(-1)!, /^handover:cookbook2$/);
});

test('failback with a third live candidate: the claim window still guards the assign', () => {
  const nodes = [
    { name: 'cookbook', priority: 0 },
    { name: 'cookbook2', priority: 0 },
    { name: 'cookbook3', priority: 0 },
  ];
  const sim = new SimCluster(cluster({ nodes }));
  sim.advance(2000);
  sim.crash('cookbook');
  sim.advance(3000);
  const holder = sim.holders('vip')[0]!;
  sim.restart('cookbook');
  const gap = longestNoHolder(sim, 6000, () => sim.holders('vip').join() === 'cookbook');
  assert.notEqual(holder, 'cookbook');
  // Another live node might think it wins too: the returning node advertises its claim first.
  assert.ok(gap >= 20, `nobody held the group for ${gap} ms, less than the shortest claim window`);
});

test('graceful stop: the peer holds within a few ms, not deadtime, and never both', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  const watch = doubleHoldWatch('vip');
  sim.send('cookbook', { type: 'shutdown' });
  const took = timeUntil(sim, 2000, () => sim.holders('vip').join() === 'cookbook2', watch.check);
  // Release, one datagram, assign: no claim window, since the only peer has just left.
  assert.ok(took <= 20, `handover took ${took} ms`);
  assert.equal(watch.samples, 0);
  assert.equal(sim.node('cookbook').state.phase, 'stopped');
  assert.ok(sim.node('cookbook').log.some((a) => a.type === 'send' && a.message.type === 'leave'));
  assert.match(reasons(sim, 'cookbook2', 'acquire').at(-1)!, /^peer-left:cookbook$/);
});

test('standby hands over at once and the node stays out; takeover brings the group back', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  const watch = doubleHoldWatch('vip');
  sim.send('cookbook', { type: 'standby' });
  const took = timeUntil(sim, 1000, () => sim.holders('vip').join() === 'cookbook2', watch.check);
  assert.ok(took <= 40, `standby handover took ${took} ms`);
  sim.advance(3000, watch.check);
  assert.deepEqual(sim.holders('vip'), ['cookbook2'], 'auto_failback does not undo an operator standby');
  sim.send('cookbook', { type: 'takeover' });
  timeUntil(sim, 1000, () => sim.holders('vip').join() === 'cookbook', watch.check);
  assert.equal(watch.samples, 0);
  assert.deepEqual(reasons(sim, 'cookbook', 'release'), ['standby']);
  assert.deepEqual(reasons(sim, 'cookbook2', 'release'), ['takeover:cookbook']);
});

test('takeover on the secondary wins over auto_failback until the next takeover', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.send('cookbook2', { type: 'takeover' });
  sim.advance(3000);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
  sim.send('cookbook', { type: 'takeover' });
  sim.advance(1000);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
});

test('a standby node still takes over when the holder dies', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.send('cookbook2', { type: 'standby' });
  sim.advance(500);
  sim.crash('cookbook');
  sim.advance(3000);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
});

test('partition then heal: both hold while cut off, the preferred node alone after, and it re-announces', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.partition('cookbook', 'cookbook2');
  sim.advance(2000);
  assert.deepEqual(sim.holders('vip'), ['cookbook', 'cookbook2'], 'two nodes that cannot see each other both hold');
  sim.heal();
  const took = timeUntil(sim, 1000, () => sim.holders('vip').length === 1);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
  assert.ok(took <= TIMING.keepaliveMs + 20, `split brain resolved in ${took} ms`);
  assert.deepEqual(reasons(sim, 'cookbook2', 'release'), ['split-brain:cookbook']);
  // Whether cookbook saw cookbook2's claim before it let go depends on who heard whom first;
  // either way the winner points the caches back at itself.
  const announces = sim.node('cookbook').log.filter((a) => a.type === 'announce').map((a) => a.reason);
  assert.ok(announces.length >= 1 && announces.every((r) => ['split-brain', 'split-brain-healed', 'peer-returned'].includes(r)), String(announces));
});

test('asymmetric partition: the holder that is not heard yields, leaving one holder', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  const watch = doubleHoldWatch('vip');
  // cookbook's datagrams are lost on the way to cookbook2, but cookbook still hears cookbook2.
  sim.partition('cookbook', 'cookbook2', true);
  sim.advance(4000, watch.check);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
  assert.ok(watch.longestMs <= TIMING.warntimeMs + 2 * TIMING.keepaliveMs, `double hold lasted ${watch.longestMs} ms`);
  assert.deepEqual(reasons(sim, 'cookbook', 'release'), ['unheard-by:cookbook2']);
  sim.advance(5000);
  assert.deepEqual(sim.holders('vip'), ['cookbook2'], 'no flapping while the partition lasts');
  sim.heal();
  sim.advance(2000);
  assert.deepEqual(sim.holders('vip'), ['cookbook'], 'after the heal, failback to the preferred node');
});

test('a stall beyond deadtime: the frozen holder lets go on waking and does not claim again', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.freeze('cookbook', 3000);
  sim.advance(1500);
  assert.deepEqual(sim.claims('vip'), { cookbook: 'held', cookbook2: 'held' });
  // Until its kernel lease lapses, the frozen node's VIP stays: nothing in it runs to remove it.
  sim.advance(600);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
  const watch = doubleHoldWatch('vip');
  sim.advance(1000, watch.check);
  const stalls = sim.node('cookbook').log.filter((a) => a.type === 'stall');
  assert.equal(stalls.length, 1);
  assert.ok(stalls[0]!.type === 'stall' && stalls[0]!.lateMs >= 3000);
  assert.deepEqual(reasons(sim, 'cookbook', 'release'), ['stall']);
  // The frozen node's VIP lease lapsed while it was frozen; on waking it never claims it again
  // before handing over through the ordinary failback handshake.
  assert.equal(watch.samples, 0);
  sim.advance(3000);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
});

test('three nodes with priorities: highest priority wins when nobody is preferred, then the next', () => {
  const nodes = [
    { name: 'a', priority: 10 },
    { name: 'b', priority: 30 },
    { name: 'c', priority: 20 },
  ];
  const sim = new SimCluster(cluster({ nodes, groups: [group('vip', null)] }));
  sim.advance(2000);
  assert.deepEqual(sim.holders('vip'), ['b']);
  sim.crash('b');
  sim.advance(3000);
  assert.deepEqual(sim.holders('vip'), ['c']);
  sim.crash('c');
  sim.advance(3000);
  assert.deepEqual(sim.holders('vip'), ['a']);
});

test('equal priorities and no preferred node: the lowest name wins', () => {
  const nodes = [
    { name: 'delta', priority: 0 },
    { name: 'alpha', priority: 0 },
    { name: 'charlie', priority: 0 },
  ];
  const sim = new SimCluster(cluster({ nodes, groups: [group('vip', null)] }));
  sim.advance(2000);
  assert.deepEqual(sim.holders('vip'), ['alpha']);
});

test('two groups active/active: each preferred node holds its own, and takes the other on failure', () => {
  const groups = [group('web', 'cookbook'), group('db', 'cookbook2')];
  const sim = new SimCluster(cluster({ groups }));
  sim.advance(2000);
  assert.deepEqual(sim.holders('web'), ['cookbook']);
  assert.deepEqual(sim.holders('db'), ['cookbook2']);
  sim.crash('cookbook2');
  sim.advance(3000);
  assert.deepEqual(sim.holders('db'), ['cookbook']);
  assert.deepEqual(sim.holders('web'), ['cookbook']);
});

test('an unhealthy holder hands over; a node with an unhealthy container does not take over', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.send('cookbook', { type: 'health', healthy: false, reasons: ['container web exited'] });
  sim.advance(100);
  assert.deepEqual(sim.holders('vip'), ['cookbook2']);
  assert.deepEqual(reasons(sim, 'cookbook', 'release'), ['unhealthy']);
  sim.send('cookbook2', { type: 'health', healthy: false, reasons: ['container web exited'] });
  sim.advance(1000);
  assert.deepEqual(sim.holders('vip'), ['cookbook2'], 'nobody healthy: the holder is the least bad and keeps serving');
  assert.deepEqual(reasons(sim, 'cookbook2', 'release'), []);
  sim.send('cookbook', { type: 'health', healthy: true, reasons: [] });
  sim.advance(100);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
  assert.deepEqual(reasons(sim, 'cookbook2', 'release'), ['unhealthy']);
});

/**
 * The engine's half of the health decision: who holds, and how many times the group moved, for
 * each pairing of the holder's and the peer's fitness, with auto_failback on and off. The
 * monitor's half (what counts as fit, unfit or no evidence) is in health/monitor.test.ts.
 */
test('health decision table: an unfit holder hands over only to a fit peer, and nothing flaps', () => {
  const table: Array<[holderFit: boolean, peerFit: boolean, autoFailback: boolean, holder: string, moves: number]> = [
    [true, true, true, 'cookbook', 0],
    [true, true, false, 'cookbook', 0],
    [true, false, true, 'cookbook', 0],
    [true, false, false, 'cookbook', 0],
    [false, true, true, 'cookbook2', 1],
    [false, true, false, 'cookbook2', 1],
    [false, false, true, 'cookbook', 0],
    [false, false, false, 'cookbook', 0],
  ];
  for (const [holderFit, peerFit, autoFailback, holder, moves] of table) {
    const what = `holder ${holderFit ? 'fit' : 'unfit'}, peer ${peerFit ? 'fit' : 'unfit'}, auto_failback ${autoFailback ? 'on' : 'off'}`;
    const sim = new SimCluster(cluster({ autoFailback }));
    sim.advance(2000);
    assert.deepEqual(sim.holders('vip'), ['cookbook'], what);
    if (!peerFit) sim.send('cookbook2', { type: 'health', healthy: false, reasons: ['container web unhealthy'] });
    sim.advance(500);
    if (!holderFit) sim.send('cookbook', { type: 'health', healthy: false, reasons: ['container web unhealthy'] });
    sim.advance(10_000);
    assert.deepEqual(sim.holders('vip'), [holder], what);
    const acquired = [...reasons(sim, 'cookbook', 'acquire'), ...reasons(sim, 'cookbook2', 'acquire')];
    assert.equal(acquired.length - 1, moves, `${what}: acquires ${acquired.join(', ')}`);
  }
});

test('maintenance takes a node out even when it is the only one left', () => {
  const sim = new SimCluster(cluster({}));
  sim.advance(2000);
  sim.crash('cookbook2');
  sim.advance(2000);
  sim.send('cookbook', { type: 'maintenance', enabled: true });
  sim.advance(100);
  assert.deepEqual(sim.holders('vip'), []);
  sim.send('cookbook', { type: 'maintenance', enabled: false });
  sim.advance(100);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
});

test('a late heartbeat is reported with its interval, and the peer is not declared dead', () => {
  let drop = false;
  const sim = new SimCluster(cluster({}), { lose: (from) => drop && from === 'cookbook' });
  sim.advance(2000);
  drop = true;
  sim.advance(550);
  drop = false;
  sim.advance(200);
  const late = sim.node('cookbook2').log.filter((a) => a.type === 'late');
  assert.equal(late.length, 1);
  assert.ok(late[0]!.type === 'late' && late[0]!.intervalMs > TIMING.warntimeMs);
  const peerEvents = sim.node('cookbook2').log.filter((a) => a.type === 'peer' && a.path === null).map((a) => a.type === 'peer' && a.to);
  assert.deepEqual(peerEvents, ['up', 'late', 'up']);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
});

test('a peer is dead only when silent on every path', () => {
  const sim = new SimCluster(cluster({}), {
    paths: ['ucast:eth0', 'bcast:eth1'],
    lose: (_from, _to, path) => path === 'ucast:eth0' && sim.now > 2000,
  });
  sim.advance(5000);
  assert.deepEqual(sim.holders('vip'), ['cookbook']);
  const p = sim.node('cookbook2').state.peers['cookbook']!;
  assert.equal(p.state, 'up');
  assert.equal(p.paths['ucast:eth0']!.state, 'dead');
  assert.equal(p.paths['bcast:eth1']!.state, 'up');
});

test('step never modifies the state it is given', () => {
  const [settings] = cluster({});
  const engine = createEngine(settings!);
  const s0 = engine.initial(0, 1);
  const frozen = JSON.stringify(s0);
  engine.step(s0, { type: 'tick' }, 4000);
  engine.step(s0, { type: 'shutdown' }, 10);
  assert.equal(JSON.stringify(s0), frozen);
});

test('heartbeats carry the view and echo the peer, giving an RTT', () => {
  const sim = new SimCluster(cluster({}), { latencyMs: 3 });
  sim.advance(2000);
  const rtts = sim.node('cookbook').log.flatMap((a) => (a.type === 'rtt' ? [a.rttMs] : []));
  assert.ok(rtts.length > 5);
  // Two one-way trips of 3 ms, plus up to one tick the echo waited in the peer before it was sent.
  for (const r of rtts) assert.ok(r >= 6 && r <= 6 + 50, `rtt ${r}`);
  const sent = sim.node('cookbook').log.filter((a) => a.type === 'send');
  const seqs = sent.map((a) => (a.type === 'send' ? a.message.seq : 0));
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'sequence numbers increase by one');
});

// Found by the fault simulator (seed 62 of its first generator): both acquired at once.
test('two nodes that both think they win after a holder leaves: the claim window lets only one acquire', () => {
  // c holds. a (highest priority) recovers from a health flap at the moment c goes into
  // maintenance, and the datagram telling b that a is healthy again is lost: b still thinks a
  // cannot hold, so on c's release both a and b believe they win.
  const nodes = [
    { name: 'a', priority: 2 },
    { name: 'b', priority: 1 },
    { name: 'c', priority: 0 },
  ];
  let dropAToB = false;
  const sim = new SimCluster(cluster({ nodes, groups: [group('vip', 'c')] }), { latencyMs: 5, lose: (from, to) => dropAToB && from === 'a' && to === 'b' });
  sim.advance(2000);
  sim.send('a', { type: 'health', healthy: false, reasons: ['flap'] });
  sim.advance(1000);
  assert.deepEqual(sim.holders('vip'), ['c']);
  const watch = doubleHoldWatch('vip');
  dropAToB = true;
  sim.send('a', { type: 'health', healthy: true, reasons: [] });
  sim.send('c', { type: 'maintenance', enabled: true });
  // Only the health datagram is lost; the claims that follow 10 ms later get through.
  sim.advance(8, watch.check);
  dropAToB = false;
  sim.advance(2000, watch.check);
  assert.equal(watch.samples, 0, 'never two holders');
  assert.deepEqual(sim.holders('vip'), ['a']);
  assert.deepEqual(reasons(sim, 'b', 'acquire'), [], 'b stood down before touching the interface');
  assert.ok(sim.node('b').log.some((x) => x.type === 'transition' && x.reason === 'contended:a'));
});

test('an overrun node keeps what it holds and claims nothing new, even for a peer it no longer hears', () => {
  const groups = [group('web', 'cookbook'), group('db', 'cookbook2')];
  const sim = new SimCluster(cluster({ groups }));
  sim.advance(2000);
  assert.deepEqual([sim.holders('web'), sim.holders('db')], [['cookbook'], ['cookbook2']]);
  // a flood at cookbook: its socket drops cookbook2's heartbeats, and it knows it
  sim.send('cookbook', { type: 'overrun', active: true });
  sim.partition('cookbook2', 'cookbook', true);
  sim.advance(3000);
  assert.deepEqual(sim.holders('web'), ['cookbook'], 'what it held, it keeps');
  assert.deepEqual(sim.holders('db'), ['cookbook2'], 'it did not take db from a peer it merely cannot hear');
  // the flood ends and cookbook2 is truly gone: now the silence is evidence
  sim.heal();
  sim.send('cookbook', { type: 'overrun', active: false });
  sim.crash('cookbook2');
  sim.advance(3000);
  assert.deepEqual(sim.holders('db'), ['cookbook']);
});

test('nextWake: the next heartbeat, or a peer path crossing warntime or deadtime, whichever is first', () => {
  const [settings] = cluster({});
  const engine = createEngine(settings!);
  let state = engine.initial(0, 1);
  state = engine.step(state, { type: 'tick' }, 0).state;
  assert.equal(engine.nextWake(state, 0), 100, 'nobody heard yet: the next heartbeat, one keepalive on');
  const message = { type: 'heartbeat' as const, node: 'cookbook2', generation: 7, seq: 1, sentAtMs: 50, priority: 0, healthy: true, standby: false, maintenance: false, takeoverEpoch: 0, groups: [{ group: 'vip', claim: 'none' as const }], echoes: [] };
  state = engine.step(state, { type: 'message', path: 'ucast:eth0', message }, 50).state;
  // Silent since 50, ticked only when woken: each wake is a heartbeat due or the path crossing a threshold.
  const wakes: number[] = [];
  let now = 50;
  while (now < 1000) {
    now = engine.nextWake(state, now);
    wakes.push(now);
    state = engine.step(state, { type: 'tick' }, now).state;
  }
  assert.ok(wakes.includes(451), `the path goes late 401 ms after it was last heard (wakes ${wakes.join(', ')})`);
  assert.ok(wakes.includes(851), `and dead 801 ms after (wakes ${wakes.join(', ')})`);
  assert.equal(state.peers['cookbook2']!.state, 'dead');
  const beats = wakes.filter((w) => w !== 451 && w !== 851);
  for (let i = 1; i < beats.length; i++) assert.equal(beats[i]! - beats[i - 1]!, 100, `one wake per keepalive otherwise (wakes ${wakes.join(', ')})`);
  assert.ok(engine.nextWake(state, 5000) >= 5000, 'never in the past');
});

test('a freeze just short of deadtime: timers that fire before the queued heartbeats are read do not declare the holder dead', () => {
  const [, standbySettings] = cluster({});
  const engine = createEngine(standbySettings!);
  let seq = 0;
  const fromHolder = (sentAtMs: number) => ({
    type: 'message' as const,
    path: 'ucast:eth0',
    message: { type: 'heartbeat' as const, node: 'cookbook', generation: 7, seq: ++seq, sentAtMs, priority: 0, healthy: true, standby: false, maintenance: false, takeoverEpoch: 0, groups: [{ group: 'vip', claim: 'held' as const }], echoes: [] },
  });
  const freeze = () => {
    let state = engine.initial(0, 1);
    // The holder's heartbeats land on the hundreds, this node's own ticks 90 ms after each.
    for (let t = 0; t <= 2000; t += 100) {
      state = engine.step(state, fromHolder(t), t).state;
      state = engine.step(state, { type: 'tick' }, t + 90).state;
    }
    assert.equal(state.peers['cookbook']!.state, 'up');
    // Frozen from 2090: two timers fire at 2885, 795 ms after the last tick (under deadtime, so
    // no stall) and 885 ms after the holder was last heard. Its heartbeats of 2100 onwards wait
    // in the socket, read only after the timers.
    const first = engine.step(state, { type: 'tick' }, 2885);
    const second = engine.step(first.state, { type: 'tick' }, 2885.5);
    return { state: second.state, actions: [...first.actions, ...second.actions] };
  };

  const woken = freeze();
  assert.deepEqual(woken.actions.filter((a) => (a.type === 'peer' && a.to === 'dead') || a.type === 'acquire' || a.type === 'stall'), [], 'silence is judged only up to the step before the pause');
  assert.equal(woken.state.pausedAt, 2090);
  let state = woken.state;
  for (let t = 2100; t <= 2800; t += 100) state = engine.step(state, fromHolder(t), 2886).state;
  const resumed = engine.step(state, { type: 'resumed' }, 2886);
  assert.equal(resumed.state.pausedAt, null);
  assert.equal(resumed.state.peers['cookbook']!.state, 'up');
  assert.equal(resumed.state.groups['vip']!.claim, 'none');

  // Had the holder died at 2000, the sockets held nothing: once read, it is dead and taken over.
  const alone = engine.step(freeze().state, { type: 'resumed' }, 2886);
  assert.equal(alone.state.peers['cookbook']!.state, 'dead');
  assert.ok(alone.actions.some((a) => a.type === 'acquire'), `took over (${JSON.stringify(alone.actions.map((a) => a.type))})`);

  // A shutdown that ends during a pause waits for nothing more (the runtime would queue `resumed` for ever).
  const stopping = engine.step(freeze().state, { type: 'shutdown' }, 2886);
  assert.equal(stopping.state.phase, 'stopped');
  assert.equal(stopping.state.pausedAt, null);
});
