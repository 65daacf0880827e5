/**
 * The product as operators deploy it: the image built from the shipped Dockerfile (only its
 * NODE_IMAGE swapped), and `docker-compose up -d` of the shipped compose/nginx files on two lab
 * hosts, each with its own Docker engine (see compose-lab.ts). Only addresses and names are
 * substituted: the ha.d files get lab addresses, the env files name the lab's images and engine
 * socket, and each host's page says which host served it. nginx keeps the example's own
 * HEALTHCHECK at Docker's default interval (30 s). A client namespace polls the VIP all along.
 *
 * Scenarios, in order, each starting from "A holds": A serves and B's nginx is paused; docker
 * kill of A's sidecar; A's nginx stopped; docker stop of A's sidecar; a real Prometheus
 * scraping both sidecars; A's dockerd stopped and started under the holder; and last, A's site
 * broken so that its nginx turns unhealthy by its HEALTHCHECK, then mended. The recipe's timing
 * applies (keepalive 1 s, deadtime 10 s); test/e2e/haproxy.test.ts runs at native timings.
 * Prints each client-seen gap. About 6 minutes with the images cached.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { longestGap } from '../lab/analysis.js';
import { IMAGES, requireDockerLab } from '../lab/docker.js';
import { waitFor } from '../lab/netns.js';
import { API_PORT, LAB_VIP, REPO, watchDoubleHolders } from '../lab/sidecar.js';
import { dashboardExprs, substitute } from '../observability/promtool.js';
import { composeLabPossible, startComposePair, type ComposePair, type Host } from './compose-lab.js';

/** The recipe's deadtime; a crash takes this long to be noticed. */
const DEADTIME_MS = 10_000;
/** Docker's default HEALTHCHECK interval and retries, as the example leaves them. */
const HEALTH_INTERVAL_MS = 30_000;
const HEALTH_RETRIES = 3;

let pair: ComposePair | undefined;

function ready(t: TestContext): ComposePair | null {
  if (!requireDockerLab(t)) return null;
  assert.ok(pair !== undefined, 'the two-host compose setup failed (see the before hook)');
  return pair;
}

/** compose/nginx for one host, with lab addresses, images, socket and page. */
function prepare(dir: string, host: Host, lab: ComposePair['lab'], engine: { socket: string }): void {
  const sub = (file: string, pairs: Array<[string, string]>): void => {
    let text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const [from, to] of pairs) text = text.replaceAll(from, to);
    fs.writeFileSync(path.join(dir, file), text);
  };
  // the example's addresses, whatever they are, in the order the files give them
  const haCf = fs.readFileSync(path.join(dir, 'ha.d/ha.cf'), 'utf8');
  const peers = [...haCf.matchAll(/^ucast\s+\S+\s+(\S+)$/gm)].map((m) => m[1]!);
  assert.equal(peers.length, 2, 'compose/nginx/ha.d/ha.cf names two ucast peers');
  sub('ha.d/ha.cf', [[peers[0]!, lab.hosts.a!.address], [peers[1]!, lab.hosts.b!.address]]);
  const vip = /IPaddr::([\d.]+)/.exec(fs.readFileSync(path.join(dir, 'ha.d/haresources'), 'utf8'))![1]!;
  sub('ha.d/haresources', [[vip, LAB_VIP]]);
  // git does not keep modes; the sidecar refuses an authkeys others can read, as Heartbeat does
  fs.chmodSync(path.join(dir, 'ha.d/authkeys'), 0o600);
  fs.writeFileSync(path.join(dir, 'html/index.html'), host);
  fs.appendFileSync(path.join(dir, `host-${host}.env`), `HB_IMAGE=${IMAGES.sidecar}\nWEB_IMAGE=${IMAGES.nginx}\nDOCKER_SOCKET=${engine.socket}\n`);
}

const webStatus = (host: Host): Promise<string> => pair!.containerState(host, 'web');

/** A holds the VIP, serves the client, and B's nginx is paused: where every scenario starts. */
async function aHolds(timeoutMs: number): Promise<void> {
  const p = pair!;
  await waitFor(async () => (await p.lab.holders(LAB_VIP)).join() === 'a' && (await webStatus('b')) === 'paused' && (await webStatus('a')) === 'running', {
    what: 'A holding the VIP with B paused',
    timeoutMs,
  });
  const t = p.lab.now();
  await p.prober.waitFor((r) => r.host === 'a' && r.sentAt >= t, 5000);
}

/** `docker-compose up -d` on A again; resolves once its sidecar answers, and says how long that took. */
async function restartA(label: string): Promise<number> {
  const p = pair!;
  const t0 = p.lab.now();
  await p.compose('a', ['up', '-d']);
  await waitFor(async () => (await p.status('a').catch(() => null)) !== null, { what: "A's sidecar answering", timeoutMs: 30_000 });
  p.note(`${label}: A's sidecar answering /status ${(p.lab.now() - t0).toFixed(0)} ms after docker-compose up -d`);
  return t0;
}

before(async () => {
  if (!composeLabPossible()) return;
  pair = await startComposePair('nginx', 'compose-e2e', prepare);
});

after(async () => {
  await pair?.destroy();
});

test('1. A serves through the VIP; B runs its sidecar with nginx paused', async (t) => {
  const p = ready(t);
  if (p === null) return;
  await aHolds(60_000);
  const a = await p.status('a');
  assert.equal(a.groups[0]!.holder, 'cookbook');
  assert.deepEqual(a.containers.map((c) => [c.name, c.dockerUp, c.state]), [['web', true, 'running']]);
  const b = await p.status('b');
  assert.equal(b.groups[0]!.localClaim, 'none');
  assert.deepEqual(b.containers.map((c) => [c.name, c.dockerUp, c.state]), [['web', true, 'paused']]);
});

test("2. docker kill of A's sidecar: B unpauses its nginx and serves; A takes back when its sidecar returns", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const sidecar = await p.containerOf('a', 'sidecar');
  const killedAt = p.lab.now();
  await p.engines.a.docker(['kill', sidecar]);
  const gap = await p.moveGap('docker kill of A\'s sidecar', killedAt, 'b', DEADTIME_MS + 10_000);
  assert.ok(gap < DEADTIME_MS + 2_000, `served again after ${gap} ms; the bound is deadtime + 2 s`);
  assert.equal(await webStatus('b'), 'running');
  // the killed sidecar's VIP lapses by its kernel lease
  await waitFor(async () => (await p.lab.holders(LAB_VIP)).join() === 'b', { what: 'only B holding', timeoutMs: 5000 });
  const back = await restartA('after docker kill');
  await aHolds(30_000);
  await p.moveGap('failback to A (auto_failback on)', back, 'a', 1000);
});

test("3. A's nginx stopped: B takes over and A releases the VIP; A takes back once nginx runs", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const stoppedAt = p.lab.now();
  await p.engines.a.docker(['stop', '-t', '1', 'web']);
  await p.moveGap("A's nginx stopped", stoppedAt, 'b', 15_000);
  await waitFor(async () => (await p.lab.holders(LAB_VIP)).join() === 'b', { what: 'A releasing the VIP', timeoutMs: 5000 });
  assert.equal(await webStatus('b'), 'running');
  const a = await p.status('a');
  assert.equal(a.groups[0]!.localClaim, 'none');
  assert.equal(a.containers[0]!.state, 'exited');
  const back = p.lab.now();
  await p.engines.a.docker(['start', 'web']);
  // Docker says `starting` until its first probe, one interval after the start: no evidence yet
  await aHolds(HEALTH_INTERVAL_MS + 15_000);
  await p.moveGap('failback once nginx runs again', back, 'a', 1000);
});

test("4. docker stop of A's sidecar: handover without waiting for deadtime, never two holders", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const watch = await watchDoubleHolders(p.lab);
  const sidecar = await p.containerOf('a', 'sidecar');
  const stoppedAt = p.lab.now();
  await p.engines.a.docker(['stop', sidecar]);
  const gap = await p.moveGap("docker stop of A's sidecar", stoppedAt, 'b', 5000);
  assert.ok(gap < 2000, `a planned handover took ${gap} ms`);
  assert.equal(await webStatus('a'), 'paused', 'A paused its nginx on the way out');
  const back = await restartA('after docker stop');
  await aHolds(30_000);
  await p.moveGap('failback to the restarted sidecar', back, 'a', 1000);
  const { samples, double, longestBlindMs } = await watch.stop();
  // The count depends on the machine's load; what matters is that the watch was never blind for long.
  p.note(`docker stop of A's sidecar and its return: ${samples} holder samples, at most ${longestBlindMs.toFixed(0)} ms apart`);
  assert.ok(longestBlindMs < 1000, `the double-holder watch was blind for ${longestBlindMs.toFixed(0)} ms`);
  assert.equal(double, 0, `${double} of ${samples} samples saw the VIP on both hosts`);
});

test('6. a real Prometheus in the client namespace scrapes both sidecars and sees exactly one holder', async (t) => {
  const p = ready(t);
  if (p === null) return;
  const dir = path.join(p.lab.dir, 'prometheus');
  fs.cpSync(path.join(REPO, 'compose/prometheus'), dir, { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  const targets = `['${p.lab.hosts.a!.address}:${API_PORT}', '${p.lab.hosts.b!.address}:${API_PORT}']`;
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/targets: \[[^\]]*\]/, `targets: ${targets}`));
  const prom = p.lab.spawn('client', ['prometheus', `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, '--web.listen-address=127.0.0.1:9090']);
  try {
    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const r = await p.lab.exec('client', ['busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(q)}`], { timeoutMs: 5000 });
      if (r.code !== 0) throw new Error(`query ${q}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return (JSON.parse(r.stdout) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    // both targets scraped (5 s interval, as shipped)
    await waitFor(async () => (await query('up == 1').catch(() => [])).length === 2, { what: 'Prometheus scraping both sidecars', timeoutMs: 30_000 });
    const held = await query('heartbeat_group_held == 1');
    assert.deepEqual(held.map((s) => s.metric.instance), [`${p.lab.hosts.a!.address}:${API_PORT}`]);
    const total = await query('sum by (pair, group) (heartbeat_group_held)');
    assert.deepEqual(total.map((s) => s.value[1]), ['1']);
    assert.deepEqual((await query('heartbeat_docker_up')).map((s) => s.value[1]), ['1', '1']);
    // the shipped alert rules loaded and none fires
    const rules = await p.lab.exec('client', ['busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:9090/api/v1/rules'], { timeoutMs: 5000 });
    assert.match(rules.stdout, /VipHeldTwice/);
    assert.deepEqual(await query('ALERTS{alertstate="firing"}'), []);
    // Every query of the shipped dashboard returns data from the real pair, once there are enough
    // scrapes for its rates. A trailing "> 0" only hides quiet series on a panel: it is left off.
    await waitFor(async () => (await query('count_over_time(up[1m]) >= 4')).length === 2, { what: 'four scrapes of each sidecar', timeoutMs: 40_000 });
    const empty: string[] = [];
    for (const { panel, expr } of dashboardExprs()) {
      if ((await query(substitute(expr).replace(/\s*>\s*0$/, ''))).length === 0) empty.push(`${panel}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'dashboard queries that returned no data');
  } finally {
    p.lab.kill(prom, 'SIGTERM', 'process');
    await p.lab.waitExit(prom, 10_000);
  }
});

test("5. A's dockerd stopped while A holds: the sidecar keeps running and says so, A keeps serving; Docker back is seen", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const watch = await watchDoubleHolders(p.lab);
  const stoppedAt = p.lab.now();
  await p.engines.a.stop('SIGTERM');
  // The containers live on (live-restore); the sidecar cannot reach Docker and reports it.
  await waitFor(async () => (await p.status('a')).containers[0]!.dockerUp === false, { what: "A's /status saying Docker is down", timeoutMs: 10_000 });
  const metrics = await p.api('a', '/metrics');
  assert.match(metrics, /^heartbeat_docker_up\{container="web"\} 0$/m);
  // Chosen: keep serving. nginx still runs; handing over would only cost the clients a gap.
  await sleep(3000);
  assert.deepEqual(await p.lab.holders(LAB_VIP), ['a']);
  const gap = longestGap(p.prober.records, stoppedAt, p.lab.now());
  p.note(`A's dockerd stopped: longest client-seen gap ${gap.ms.toFixed(0)} ms (probes every 20 ms)`);
  assert.ok(gap.ms < 500, `the client saw a ${gap.ms} ms gap while A's Docker was down`);
  assert.equal((await p.status('b')).groups[0]!.holder, 'cookbook');

  await p.engines.a.start();
  await waitFor(async () => (await p.status('a')).containers[0]!.dockerUp === true, { what: "A's /status seeing Docker again", timeoutMs: 15_000 });
  assert.match(await p.api('a', '/metrics'), /^heartbeat_docker_up\{container="web"\} 1$/m);
  await aHolds(10_000);
  const { double } = await watch.stop();
  assert.equal(double, 0);
});

test("7. A's site breaks: its nginx turns unhealthy by its own HEALTHCHECK (30 s), B serves once; A takes back once healthy", async (t) => {
  const p = ready(t);
  if (p === null) return;
  await aHolds(60_000);
  const before = await p.takes();
  const page = path.join(p.projects.a, 'html/index.html');
  const watch = await watchDoubleHolders(p.lab);
  // no index page: nginx answers 403, and the HEALTHCHECK's GET / fails
  fs.renameSync(page, `${page}.off`);
  const brokenAt = p.lab.now();
  const bound = HEALTH_INTERVAL_MS * HEALTH_RETRIES + DEADTIME_MS;
  await p.moveGap("A's nginx unhealthy by its HEALTHCHECK", brokenAt, 'b', bound + 10_000);
  const tookMs = p.lab.now() - brokenAt;
  assert.ok(tookMs < bound, `B served ${tookMs} ms after the break; the bound is interval × retries + deadtime = ${bound} ms`);
  // unfit, A stays out, and its nginx runs on so that its recovery can be seen
  await sleep(15_000);
  assert.deepEqual(await p.lab.holders(LAB_VIP), ['b']);
  assert.equal(await webStatus('a'), 'running');
  const a = await p.status('a');
  assert.equal(a.healthy, false);
  assert.match(a.healthReasons.join('; '), /container web unhealthy/);
  assert.deepEqual(await p.takes(), { a: before.a, b: before.b! + 1 }, 'exactly one transition to B');

  fs.renameSync(`${page}.off`, page);
  const mendedAt = p.lab.now();
  await aHolds(HEALTH_INTERVAL_MS + 15_000);
  p.note(`A's site mended: A holds again ${(p.lab.now() - mendedAt).toFixed(0)} ms later (its next HEALTHCHECK, every 30 s)`);
  assert.deepEqual(await p.takes(), { a: before.a! + 1, b: before.b! + 1 }, 'exactly one transition back');
  const { samples, double } = await watch.stop();
  assert.equal(double, 0, `${double} of ${samples} samples saw the VIP on both hosts`);
  p.note(`unhealthy and back: longest client-seen gap ${longestGap(p.prober.records, brokenAt, p.lab.now()).ms.toFixed(0)} ms`);
});
