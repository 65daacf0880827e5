/**
 * Faults on real processes (docs/architecture.md, Tests), time-boxed for CI; `HB_SOAK_SECONDS`
 * stretches the loss phases for a soak. Native defaults, two hosts, a client probing the VIP every 10 ms.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { waitFor, type Lab, type Prober } from '../lab/netns.js';
import { labUnavailable, requireLab } from '../lab/guard.js';
import { api, LAB_VIP, metricValue, startNativePair, transitionCount, waitHolders, watchDoubleHolders, type NativePair, type Sidecar } from '../lab/sidecar.js';

const HOSTS = ['alpha', 'beta'];
const LOSS_SECONDS = Number(process.env.HB_SOAK_SECONDS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A daemon's log lines (pino JSON) from `since` (epoch ms) on: time and message. */
function daemonLines(file: string, since: number): { at: number; msg: string }[] {
  return fs.readFileSync(file, 'utf8').split('\n').flatMap((line) => {
    try {
      const j = JSON.parse(line) as { time?: number; msg?: string };
      return j.time !== undefined && j.time >= since ? [{ at: j.time, msg: j.msg ?? line }] : [];
    } catch {
      return [];
    }
  });
}

describe('faults in the lab', { concurrency: false }, () => {
  let pair: NativePair;
  let lab: Lab;
  let prober: Prober;
  let sidecars: Map<string, Sidecar>;
  const start = (h: string) => pair.start(h);

  before(async () => {
    if (labUnavailable() !== null) return;
    pair = await startNativePair('faults', HOSTS);
    ({ lab, prober, sidecars } = pair);
    await waitHolders(lab, ['alpha'], 10_000);
  });

  after(async () => pair?.destroy());

  for (const p of [0.1, 0.3]) {
    test(`${p * 100}% heartbeat loss both ways for ${LOSS_SECONDS} s: false failovers counted${p === 0.1 ? ' (none allowed)' : ''}`, async (t) => {
      if (!requireLab(t)) return;
      await waitHolders(lab, ['alpha'], 10_000);
      const before = await transitionCount(lab, HOSTS);
      for (const h of HOSTS) await lab.loss(h, p, { udpPort: 694 });
      await sleep(LOSS_SECONDS * 1000);
      for (const h of HOSTS) await lab.loss(h, 0, { udpPort: 694 });
      const late = metricValue(await api(lab, 'beta', '/metrics'), 'heartbeat_heartbeats_late_total', { peer: 'alpha', path: 'ucast:eth0' }) ?? 0;
      const changed = (await transitionCount(lab, HOSTS)) - before;
      t.diagnostic(`${p * 100}% loss for ${LOSS_SECONDS} s: ${changed} transitions (false failovers ×4), ${late} late heartbeats seen by beta so far`);
      if (p === 0.1) assert.equal(changed, 0);
      await waitHolders(lab, ['alpha'], 10_000);
    });
  }

  test('symmetric partition: both hold while cut off; after the heal one holder, and the client points at it', async (t) => {
    if (!requireLab(t)) return;
    // What the client's kernel accepts, for the failure message below.
    const neighbours = lab.spawn('client', ['ip', '-ts', 'monitor', 'neigh', 'dev', 'eth0']);
    const cutAt = Date.now();
    try {
      await lab.partition('alpha', 'beta');
      await waitHolders(lab, ['alpha', 'beta'], 5000);
      const healedAt = lab.now();
      await lab.heal();
      const took = await waitHolders(lab, ['alpha'], 5000);
      t.diagnostic(`two holders for ${took.toFixed(0)} ms after the heal`);
      // The winner announced again: the client's neighbour entry for the VIP becomes alpha's MAC.
      const served = await prober.waitFor((r) => r.host === 'alpha' && r.sentAt > healedAt + took, 3000).catch(async (err: Error) => {
        // Intermittent (about 1 run in 18 of this file): say what both daemons did and what the client accepted.
        const entry = await lab.exec('client', ['ip', 'neigh', 'show', LAB_VIP]);
        const last = prober.records.filter((r) => r.sentAt > healedAt).slice(-5);
        const story = HOSTS.flatMap((h) => daemonLines(sidecars.get(h)!.log, cutAt).map((l) => ({ ...l, host: h })))
          .sort((a, b) => a.at - b.at)
          .map((l) => `+${l.at - cutAt} ms ${l.host}: ${l.msg}`);
        const accepted = fs.readFileSync(lab.logOf(neighbours) ?? '/dev/null', 'utf8').split('\n').filter((l) => l.includes(LAB_VIP));
        throw new Error(
          `${err.message}; client's entry for the VIP: ${entry.stdout.trim()} (alpha ${lab.hosts['alpha']!.mac}, beta ${lab.hosts['beta']!.mac}); last probes: ${JSON.stringify(last)}\n` +
            `daemons since the cut (epoch ${cutAt}):\n${story.join('\n')}\nclient's neighbour updates:\n${accepted.join('\n')}`,
          { cause: err },
        );
      });
      assert.ok(served.host === 'alpha');
      const moved = lab.now();
      await waitFor(async () => (await lab.neighbour(LAB_VIP)) === lab.hosts['alpha']!.mac, { what: "the client's neighbour entry on alpha's MAC", timeoutMs: 3000 });
      t.diagnostic(`client's neighbour entry on alpha ${(lab.now() - moved).toFixed(0)} ms after alpha first answered`);
      assert.ok(took < 2000, `split brain lasted ${took} ms after the heal`);
    } finally {
      lab.kill(neighbours);
    }
  });

  test('one-way partition: the holder that is not heard yields; a single holder while it lasts', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['alpha'], 5000);
    await lab.partition('alpha', 'beta', { oneWay: true });
    const double = await watchDoubleHolders(lab, 20);
    await sleep(4000);
    const holders = await lab.holders(LAB_VIP);
    const w = await double.stop();
    await lab.heal();
    t.diagnostic(`one-way partition: ${w.double} of ${w.samples} samples (20 ms apart) had two holders; holder while cut: ${holders.join(',')}`);
    assert.equal(holders.length, 1);
    assert.ok(w.double * 20 < 1500, `two holders for about ${w.double * 20} ms`);
    await waitHolders(lab, ['alpha'], 5000);
  });

  test('SIGSTOP of the holder beyond deadtime, then SIGCONT: the resumed node does not keep claiming', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['alpha'], 5000);
    const alpha = sidecars.get('alpha')!;
    lab.kill(alpha.child, 'SIGSTOP', 'process');
    await waitHolders(lab, ['beta'], 5000); // alpha's lease lapses while it is frozen
    lab.kill(alpha.child, 'SIGCONT', 'process');
    const watch = await watchDoubleHolders(lab, 20);
    await sleep(1500);
    const w = await watch.stop();
    const log = fs.readFileSync(alpha.log, 'utf8');
    assert.match(log, /"event":"stall"/);
    assert.equal(w.double, 0, 'the resumed node never re-asserted the VIP beside beta');
    await waitHolders(lab, ['alpha'], 5000); // then failback by handshake
  });

  test('SIGSTOP of the standby just short of deadtime, 8 times: it never claims the live holder\'s VIP', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['alpha'], 5000);
    const beta = sidecars.get('beta')!;
    const since = Date.now();
    const watch = await watchDoubleHolders(lab, 20);
    for (let i = 0; i < 8; i++) {
      // A different phase against the heartbeats each time; the native deadtime is 800 ms.
      await sleep(300 + 37 * i);
      lab.kill(beta.child, 'SIGSTOP', 'process');
      await sleep(740);
      lab.kill(beta.child, 'SIGCONT', 'process');
    }
    await sleep(1500);
    const w = await watch.stop();
    const lines = daemonLines(beta.log, since).map((l) => l.msg);
    t.diagnostic(`beta after 8 freezes of 740 ms: ${lines.filter((m) => m.startsWith('timers fired later')).length} stalls, ${lines.filter((m) => m === 'peer alpha dead').length} deaths of alpha`);
    // Before the engine waited for the queued heartbeats, about one freeze in four ended in a claim.
    assert.deepEqual(lines.filter((m) => m.includes('-> acquiring')), []);
    assert.equal(w.double, 0);
    await waitHolders(lab, ['alpha'], 5000);
  });

  test('a VIP deleted by hand is restored within a reconcile period; one added on the standby is removed', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['alpha'], 5000);
    await lab.exec('alpha', ['ip', 'addr', 'del', `${LAB_VIP}/24`, 'dev', 'eth0'], { check: true });
    const restored = await waitHolders(lab, ['alpha'], 3000);
    await lab.exec('beta', ['ip', 'addr', 'add', `${LAB_VIP}/24`, 'dev', 'eth0'], { check: true });
    const removed = await waitHolders(lab, ['alpha'], 3000);
    t.diagnostic(`restored after ${restored.toFixed(0)} ms, stray removed after ${removed.toFixed(0)} ms (reconcile every 500 ms)`);
    assert.ok(restored < 1500 && removed < 1500);
  });

  test('kill -9 and restart of the holder, over and over: always served again within the failover bound', async (t) => {
    if (!requireLab(t)) return;
    const rounds = 4;
    const took: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const holder = (await waitHolders(lab, ['alpha'], 10_000), 'alpha');
      const at = prober.mark(`kill ${i}`);
      lab.kill(sidecars.get(holder)!.child, 'SIGKILL');
      const served = await prober.waitFor((r) => r.host === 'beta' && r.sentAt >= at, 5000);
      took.push(served.sentAt - at);
      start(holder);
    }
    await waitHolders(lab, ['alpha'], 10_000);
    t.diagnostic(`kill -9 loop: served again after ${took.map((x) => x.toFixed(0)).join(', ')} ms`);
    for (const x of took) assert.ok(x < 2000, `${x} ms`);
  });
});

describe('ping nodes', { concurrency: false }, () => {
  let pair: NativePair;

  before(async () => {
    if (labUnavailable() !== null) return;
    pair = await startNativePair('ping', HOSTS, 'ping_nodes: [10.77.0.200]');
  });

  after(async () => pair?.destroy());

  test('a holder that reaches none of its ping nodes hands over; it takes the VIP back when it reaches them again', async (t) => {
    if (!requireLab(t)) return;
    const { lab } = pair;
    await waitHolders(lab, ['alpha'], 15_000);
    // The client namespace is the ping node; alpha alone loses it.
    await lab.exec('alpha', ['iptables', '-A', 'OUTPUT', '-p', 'icmp', '-d', '10.77.0.200', '-j', 'DROP'], { check: true });
    const moved = await waitHolders(lab, ['beta'], 15_000);
    const status = JSON.parse(await api(lab, 'alpha', '/status'));
    t.diagnostic(`handed over ${moved.toFixed(0)} ms after the ping node went unreachable; reasons: ${status.healthReasons.join('; ')}`);
    assert.equal(status.healthy, false);
    await lab.exec('alpha', ['iptables', '-D', 'OUTPUT', '-p', 'icmp', '-d', '10.77.0.200', '-j', 'DROP'], { check: true });
    await waitHolders(lab, ['alpha'], 15_000);
  });
});
