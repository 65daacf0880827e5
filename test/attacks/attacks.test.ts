/**
 * An outsider on the LAN against a lab pair at native defaults: each attack is run and its
 * figures printed (false failovers, double-holder samples, client gaps, CPU and RSS under
 * flood, lines logged per second). Short floods in CI (≤ 10 s each, at rates this 2-core machine
 * sustains); `npm run attack` runs the full ones. Traffic comes from the lab's client namespace,
 * to lab addresses only. `HB_ATTACK_MAIN=<older dist/sidecar/src/main.js>` reproduces the
 * attacks against a build from before their fixes.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { labUnavailable, requireLab } from '../lab/guard.js';
import { longestGap } from '../lab/analysis.js';
import { LAB_VIP, api, waitHolders, waitReady, watchDoubleHolders } from '../lab/sidecar.js';
import { API_PORT, FULL, HB_PORT, attack, captureMany, flood, logLines, measure, metricSum, metrics, limitCpu, startAttackPair, type AttackPair } from './harness.js';

const HOSTS = ['alpha', 'beta'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (p: AttackPair, host: string) => p.sidecars.get(host)!.child.exitCode === null && p.sidecars.get(host)!.child.signalCode === null;
const exitOf = (p: AttackPair, host: string) => ({ code: p.sidecars.get(host)!.child.exitCode, signal: p.sidecars.get(host)!.child.signalCode });

/** Besides the lab's tools: python3 (the attack scripts), tcpdump (captures), prlimit. */
function requireAttackLab(t: TestContext): boolean {
  if (!requireLab(t)) return false;
  const missing = ['python3', 'tcpdump', 'prlimit'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length === 0) return true;
  if (process.env.CI === 'true') throw new Error(`attack suite cannot run in CI: missing ${missing.join(', ')}`);
  t.skip(`missing ${missing.join(', ')}`);
  return false;
}

async function transitions(p: AttackPair): Promise<number> {
  let total = 0;
  for (const h of HOSTS) if (alive(p, h)) total += metricSum(await metrics(p.lab, h), 'heartbeat_transitions_total');
  return total;
}

/** Back to alpha holding, both daemons up. */
async function steady(p: AttackPair): Promise<void> {
  for (const h of HOSTS) {
    if (!alive(p, h)) {
      p.start(h);
      await waitReady(p.lab, h);
    }
  }
  await waitHolders(p.lab, ['alpha'], 15_000);
}

describe('attacks from the LAN', { concurrency: false }, () => {
  let pair: AttackPair;

  before(async () => {
    if (labUnavailable() !== null) return;
    pair = await startAttackPair('attacks', HOSTS);
    await waitHolders(pair.lab, ['alpha'], 15_000);
  });

  after(async () => pair?.destroy());

  test('1. idle TCP connections to the holder\'s API: it lives on, holds the VIP, and answers', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab, prober } = pair;
    await steady(pair);
    const n = FULL ? 2000 : 1100;
    const seconds = FULL ? 20 : 6;
    const at = prober.mark('idle connections');
    const double = await watchDoubleHolders(lab, 20);
    const r = await attack<{ opened: number; refused: number; closedByServer: number }>(lab, 'connections.py', [lab.hosts['alpha']!.address, String(API_PORT), String(n), String(seconds)], (seconds + 60) * 1000);
    await sleep(1500);
    const w = await double.stop();
    const gap = longestGap(prober.records, at, lab.now()).ms;
    const holders = await lab.holders(LAB_VIP);
    t.diagnostic(`${n} idle connections for ${seconds} s: ${r.opened} opened, ${r.closedByServer} closed by the daemon, ${r.refused} refused; alpha ${alive(pair, 'alpha') ? 'alive' : `exited ${JSON.stringify(exitOf(pair, 'alpha'))}`}; holders ${holders.join(',') || 'none'}; double-holder samples ${w.double}/${w.samples}; longest client gap ${gap.toFixed(0)} ms`);
    assert.ok(alive(pair, 'alpha'), `alpha exited ${JSON.stringify(exitOf(pair, 'alpha'))}`);
    assert.deepEqual(holders, ['alpha']);
    assert.equal(w.double, 0);
    assert.ok(JSON.parse(await api(lab, 'alpha', '/healthz')).ok);
  });

  test('2. replay of the dead holder\'s heartbeats to a standby that restarted meanwhile: not taken for a live holder', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab, prober, sidecars } = pair;
    await steady(pair);
    const count = FULL ? 150 : 60;
    const captured = await captureMany(lab, 'beta', 'alpha', count);
    // The holder dies, and the standby restarts at once (an upgrade, a crash): its new process
    // never hears the holder's later heartbeats, so only what it kept on disk tells it that the
    // capture is old.
    const at = prober.mark('kill -9 alpha, restart beta, replay alpha to beta');
    lab.kill(sidecars.get('alpha')!.child, 'SIGKILL');
    lab.kill(sidecars.get('beta')!.child, 'SIGKILL');
    await lab.waitExit(sidecars.get('beta')!.child, 10_000);
    pair.start('beta');
    const replay = flood(lab, { src: lab.hosts['alpha']!.address, dst: lab.hosts['beta']!.address, seconds: count / 10, rate: 10, payloads: captured });
    const served = await prober.waitFor((r) => r.host === 'beta' && r.sentAt >= at, 60_000);
    const sent = await replay;
    const took = served.sentAt - at;
    const replays = metricSum(await metrics(lab, 'beta'), 'heartbeat_datagrams_rejected_total', { reason: 'replay' });
    t.diagnostic(`${sent.sent} captured heartbeats of alpha (${(count / 10).toFixed(0)} s of them) replayed to beta after alpha died and beta restarted: served by beta ${took.toFixed(0)} ms after (its initdead is 3 s); beta rejected ${replays} as replays`);
    assert.ok(took < 5_500, `the replay held the failover back: ${took} ms`);
    assert.ok(replays > 0);
  });

  /**
   * Floods beta with copies of alpha's real heartbeats from two senders (one Python process does
   * not reach the report's ~150k/s), each costing beta a MAC check before it is refused as a
   * replay, which random junk (refused at the magic) does not; `cpuPercent` holds beta's daemon
   * to that share of one core meanwhile. Asserts no false failover and never two holders.
   */
  async function floodStandby(t: TestContext, what: string, cpuPercent?: number): Promise<void> {
    const { lab, prober, sidecars } = pair;
    await steady(pair);
    const seconds = FULL ? 60 : 8;
    const copies = await captureMany(lab, 'beta', 'alpha', 16);
    const beta = sidecars.get('beta')!.child.pid!;
    const before = await transitions(pair);
    const at = prober.mark(what);
    const double = await watchDoubleHolders(lab, 20);
    const restore = cpuPercent === undefined ? () => {} : limitCpu(beta, cpuPercent);
    let m: { result: { sent: number; seconds: number; rate: number }; cpuPercent: number; peakRssMb: number };
    try {
      const floods = Promise.all([0, 1].map(() => flood(lab, { src: lab.hosts['alpha']!.address, dst: lab.hosts['beta']!.address, seconds, payloads: copies })));
      m = await measure(beta, floods.then((rs) => ({ sent: rs.reduce((a, r) => a + r.sent, 0), seconds: Math.max(...rs.map((r) => r.seconds)), rate: rs.reduce((a, r) => a + r.rate, 0) })));
    } finally {
      restore();
    }
    await sleep(1500);
    const w = await double.stop();
    const falseFailovers = (await transitions(pair)) - before;
    const gap = longestGap(prober.records, at, lab.now()).ms;
    const text = await metrics(lab, 'beta');
    t.diagnostic(
      `${what}: ${m.result.sent} datagrams in ${m.result.seconds} s (${m.result.rate}/s); transitions ${falseFailovers} (false failovers); double-holder samples ${w.double}/${w.samples}; longest client gap ${gap.toFixed(0)} ms; beta CPU ${m.cpuPercent.toFixed(0)} %, peak RSS ${m.peakRssMb.toFixed(0)} MB; socket drops seen ${metricSum(text, 'heartbeat_socket_drops')}; datagrams rejected ${metricSum(text, 'heartbeat_datagrams_rejected_total')}`,
    );
    assert.equal(falseFailovers, 0);
    assert.equal(w.double, 0);
    assert.deepEqual(await lab.holders(LAB_VIP), ['alpha']);
  }

  test('3. flood with the holder\'s spoofed source at the standby: no false failover, drops seen', async (t) => {
    if (!requireAttackLab(t)) return;
    await floodStandby(t, "flood of alpha's heartbeats (replayed copies) at beta");
  });

  test('3c. the same flood at a standby with a tenth of a core: no false failover', async (t) => {
    if (!requireAttackLab(t)) return;
    // This machine's two senders do not outrun a daemon that has a core to itself, as the
    // report's ~150k/s did: a daemon held to 10 % of a core drains its socket far slower than
    // the flood fills it, so the kernel drops alpha's real heartbeats along with the copies.
    await floodStandby(t, "flood of alpha's heartbeats at beta held to 10 % of a core", 10);
  });

  test('3b. the standby\'s own heartbeats replayed to it: counted as ownNode, no false failover', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab } = pair;
    await steady(pair);
    const own = await captureMany(lab, 'alpha', 'beta', 5);
    const before = await transitions(pair);
    const seconds = FULL ? 30 : 5;
    const r = await flood(lab, { src: lab.hosts['alpha']!.address, dst: lab.hosts['beta']!.address, seconds, payloads: own });
    await sleep(1500);
    const text = await metrics(lab, 'beta');
    const counted = metricSum(text, 'heartbeat_datagrams_rejected_total', { reason: 'ownNode' });
    const drops = metricSum(text, 'heartbeat_socket_drops');
    const falseFailovers = (await transitions(pair)) - before;
    t.diagnostic(`beta's own heartbeats replayed to it: ${r.sent} in ${r.seconds} s (${r.rate}/s); counted as ownNode ${counted}; kernel drops on beta's heartbeat socket ${drops}; transitions ${falseFailovers}`);
    assert.ok(counted > 0, 'own datagrams are counted');
    assert.equal(falseFailovers, 0);
  });

  test('4. unauthenticated requests with long paths and refused admin actions: a bounded log', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab, sidecars } = pair;
    await steady(pair);
    const seconds = FULL ? 30 : 5;
    const log = sidecars.get('beta')!.log;
    const before = logLines(log);
    const r = await attack<{ sent: number; errors: number }>(lab, 'requests.py', [lab.hosts['beta']!.address, String(API_PORT), String(seconds)], (seconds + 30) * 1000);
    await sleep(500);
    const lines = logLines(log) - before;
    const bytes = fs.statSync(log).size;
    t.diagnostic(`${r.sent} refused requests in ${seconds} s (${(r.sent / seconds).toFixed(0)}/s): ${lines} log lines (${(lines / seconds).toFixed(1)} lines/s); beta's log is ${(bytes / 1024).toFixed(0)} kB`);
    assert.ok(r.sent > 100, 'the attack ran');
    assert.ok(lines / seconds < 5, `${lines / seconds} lines/s`);
  });

  test('7. a generation file at 2^53 or beyond: the node starts, warns and runs', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab, sidecars } = pair;
    await steady(pair);
    lab.kill(sidecars.get('beta')!.child, 'SIGTERM', 'process');
    await lab.waitExit(sidecars.get('beta')!.child, 10_000);
    const file = path.join(lab.dir, 'state', 'beta', 'generation-beta');
    fs.writeFileSync(file, `${2 ** 53 + 2}\n`);
    const beta = pair.start('beta');
    await sleep(5000);
    const up = alive(pair, 'beta');
    const held = fs.readFileSync(file, 'utf8').trim();
    // A crashed node must not stay in its crash loop for the tests that follow.
    if (!up) fs.rmSync(file);
    const peer = up ? (JSON.parse(await api(lab, 'alpha', '/status')) as { peers: { node: string; state: string }[] }).peers.find((x) => x.node === 'beta')?.state : 'n/a';
    t.diagnostic(`generation file ${2 ** 53 + 2}: beta ${up ? 'runs' : `exited ${JSON.stringify(exitOf(pair, 'beta'))}`}; alpha sees beta ${peer}; the file now holds ${held}`);
    assert.ok(up, `beta exited ${JSON.stringify(exitOf(pair, 'beta'))}; log: ${fs.readFileSync(beta.log, 'utf8').slice(-300)}`);
    assert.equal(peer, 'up');
    assert.ok(Number(held) < 2 ** 53);
  });

  test('9. a local process binding the heartbeat port beside the standby (SO_REUSEADDR, SO_REUSEPORT): refused', async (t) => {
    if (!requireAttackLab(t)) return;
    const { lab } = pair;
    await steady(pair);
    const before = await transitions(pair);
    const script = `
import json, socket, time
out = {}
for addr in ('0.0.0.0', '${lab.hosts['beta']!.address}'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        s.bind((addr, ${HB_PORT}))
        s.settimeout(0.2)
        got, end = 0, time.monotonic() + 3
        while time.monotonic() < end:
            try:
                s.recv(2048); got += 1
            except socket.timeout:
                pass
        out[addr] = f'bound, took {got} datagrams'
    except OSError as e:
        out[addr] = e.strerror
    s.close()
print(json.dumps(out))`;
    const r = await lab.exec('beta', ['python3', '-c', script], { timeoutMs: 20_000 });
    await sleep(1000);
    const changed = (await transitions(pair)) - before;
    t.diagnostic(`binding udp/${HB_PORT} beside beta's daemon: ${r.stdout.trim()}; transitions ${changed}`);
    assert.doesNotMatch(r.stdout, /bound/);
    assert.equal(changed, 0);
  });
});

