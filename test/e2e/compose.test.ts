/**
 * The product as operators deploy it: the image built from the shipped Dockerfile (only its
 * NODE_IMAGE swapped), and `docker-compose up -d` of the shipped compose/nginx files on two lab
 * hosts, each with its own Docker engine. Only addresses and names are substituted: the ha.d
 * files get lab addresses, the env files name the lab's images and engine socket, and each
 * host's page says which host served it. A client namespace polls the VIP all along.
 *
 * The engines run with `live-restore`, as the deploy guide recommends, and their socket is held
 * across dockerd restarts as systemd's docker.socket holds /var/run/docker.sock on Debian and
 * Ubuntu, so the sidecar's bind-mounted socket still leads to dockerd after a restart.
 *
 * Scenarios, in order, each starting from "A holds": A serves and B's nginx is paused; docker
 * kill of A's sidecar; A's nginx stopped; docker stop of A's sidecar; a real Prometheus
 * scraping both sidecars; and last, A's dockerd stopped and started under the holder. The
 * recipe's timing applies (keepalive 1 s, deadtime 10 s). Prints each client-seen gap. About 3
 * minutes with the images cached.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { firstAnswerFrom, longestGap } from '../lab/analysis.js';
import { buildImages, dockerLabUnavailable, IMAGES, requireDockerLab, startEngine, sweepStaleEngines, type DockerEngine } from '../lab/docker.js';
import { createLab, sweepStale, waitFor, type Lab, type Prober } from '../lab/netns.js';
import { LAB_VIP, REPO, watchDoubleHolders } from '../lab/sidecar.js';

const HOSTS = ['a', 'b'] as const;
type Host = (typeof HOSTS)[number];
const NODE_OF: Record<Host, string> = { a: 'cookbook', b: 'cookbook2' };
/** The recipe's deadtime; a crash takes this long to be noticed. */
const DEADTIME_MS = 10_000;
const API_PORT = 9694;

let lab: Lab | undefined;
const engines = {} as Record<Host, DockerEngine>;
const projects = {} as Record<Host, string>;
let prober: Prober | undefined;
const gaps: string[] = [];

function ready(t: TestContext): boolean {
  if (!requireDockerLab(t)) return false;
  assert.ok(lab !== undefined && prober !== undefined, 'the two-host compose setup failed (see the before hook)');
  return true;
}

/** compose/nginx copied for one host, with lab addresses, images, socket and page. */
function writeProject(host: Host): string {
  const dir = path.join(lab!.dir, `compose-${host}`);
  fs.cpSync(path.join(REPO, 'compose/nginx'), dir, { recursive: true });
  const sub = (file: string, pairs: Array<[string, string]>): void => {
    let text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const [from, to] of pairs) text = text.replaceAll(from, to);
    fs.writeFileSync(path.join(dir, file), text);
  };
  // the example's addresses, whatever they are, in the order the files give them
  const haCf = fs.readFileSync(path.join(dir, 'ha.d/ha.cf'), 'utf8');
  const peers = [...haCf.matchAll(/^ucast\s+\S+\s+(\S+)$/gm)].map((m) => m[1]!);
  assert.equal(peers.length, 2, 'compose/nginx/ha.d/ha.cf names two ucast peers');
  sub('ha.d/ha.cf', [[peers[0]!, lab!.hosts.a!.address], [peers[1]!, lab!.hosts.b!.address]]);
  const vip = /IPaddr::([\d.]+)/.exec(fs.readFileSync(path.join(dir, 'ha.d/haresources'), 'utf8'))![1]!;
  sub('ha.d/haresources', [[vip, LAB_VIP]]);
  // git does not keep modes; the sidecar refuses an authkeys others can read, as Heartbeat does
  fs.chmodSync(path.join(dir, 'ha.d/authkeys'), 0o600);
  fs.writeFileSync(path.join(dir, 'html/index.html'), host);
  fs.appendFileSync(path.join(dir, `host-${host}.env`), `HB_IMAGE=${IMAGES.sidecar}\nWEB_IMAGE=${IMAGES.nginx}\nDOCKER_SOCKET=${engines[host].socket}\n`);
  return dir;
}

const compose = (host: Host, args: string[]) => engines[host].compose(projects[host], ['--env-file', `host-${host}.env`, ...args]);

async function containerOf(host: Host, service: 'sidecar' | 'web'): Promise<string> {
  const id = (await compose(host, ['ps', '-q', service])).stdout.trim();
  assert.ok(id !== '', `no ${service} container on ${host}`);
  return id;
}

async function webStatus(host: Host): Promise<string> {
  return (await engines[host].docker(['inspect', '-f', '{{.State.Status}}', 'web'])).stdout.trim();
}

/** GET on a sidecar's API from the client namespace, as Prometheus or an operator would. */
async function apiGet(host: Host, route: string): Promise<string> {
  const r = await lab!.exec('client', ['busybox', 'wget', '-q', '-O', '-', `http://${lab!.hosts[host]!.address}:${API_PORT}${route}`], { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`GET ${route} on ${host}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}

interface Status {
  node: string;
  groups: Array<{ holder: string | null; localClaim: string }>;
  containers: Array<{ name: string; dockerUp: boolean | null; state: string | null }>;
}
const status = async (host: Host): Promise<Status> => JSON.parse(await apiGet(host, '/status')) as Status;

/** A holds the VIP, serves the client, and B's nginx is paused: where every scenario starts. */
async function aHolds(timeoutMs: number): Promise<void> {
  await waitFor(async () => (await lab!.holders(LAB_VIP)).join() === 'a' && (await webStatus('b')) === 'paused' && (await webStatus('a')) === 'running', {
    what: 'A holding the VIP with B paused',
    timeoutMs,
  });
  const t = lab!.now();
  await prober!.waitFor((r) => r.host === 'a' && r.sentAt >= t, 5000);
}

/** `docker-compose up -d` on A again; resolves once its sidecar answers, and says how long that took. */
async function restartA(label: string): Promise<number> {
  const t0 = lab!.now();
  await compose('a', ['up', '-d']);
  await waitFor(async () => (await status('a').catch(() => null)) !== null, { what: "A's sidecar answering", timeoutMs: 30_000 });
  const ms = lab!.now() - t0;
  gaps.push(`${label}: A's sidecar answering /status ${ms.toFixed(0)} ms after docker-compose up -d`);
  return t0;
}

/** The client-seen gap of a move that started at `from`: until `to` first answers. */
async function moveGap(label: string, from: number, to: Host, timeoutMs: number): Promise<number> {
  await prober!.waitFor((r) => r.host === to && r.sentAt >= from, timeoutMs);
  const first = firstAnswerFrom(prober!.records, to, from)!;
  const gap = longestGap(prober!.records, from, first.sentAt);
  const line = `${label}: client-seen gap ${gap.ms.toFixed(0)} ms, ${to} answering ${(first.sentAt - from).toFixed(0)} ms after the event`;
  gaps.push(line);
  process.stderr.write(`[compose e2e] ${line}\n`);
  return gap.ms;
}

before(async () => {
  if (dockerLabUnavailable() !== null || process.getuid?.() !== 0) return;
  sweepStaleEngines();
  await sweepStale();
  const images = await buildImages();
  lab = await createLab({ hosts: [...HOSTS], name: 'compose' });
  // nginx's workers run as www-data and read the pages under the lab's 0700 directory
  fs.chmodSync(lab.dir, 0o755);
  for (const h of HOSTS) engines[h] = await startEngine(lab, h, { seed: images.seed, liveRestore: true, socketActivated: true });
  for (const h of HOSTS) projects[h] = writeProject(h);
  prober = await lab.startProber(`http://${LAB_VIP}/`, { intervalMs: 20, timeoutMs: 300 });
  await Promise.all(HOSTS.map((h) => compose(h, ['up', '-d'])));
});

after(async () => {
  // the sidecars' own logs, kept with the lab's when HBS_LAB_KEEP=1
  for (const h of HOSTS) {
    if (engines[h]?.running) fs.writeFileSync(path.join(lab!.dir, 'logs', `sidecar-${h}.log`), (await compose(h, ['logs', '--no-color', '-t', 'sidecar']).catch((e: Error) => ({ stdout: e.message }))).stdout);
  }
  if (gaps.length > 0) process.stderr.write(`[compose e2e] measured:\n${gaps.map((g) => `  ${g}`).join('\n')}\n`);
  await prober?.stop();
  for (const h of HOSTS) await engines[h]?.destroy();
  await lab?.destroy();
});

test('1. A serves through the VIP; B runs its sidecar with nginx paused', async (t) => {
  if (!ready(t)) return;
  await aHolds(60_000);
  const a = await status('a');
  assert.equal(a.groups[0]!.holder, 'cookbook');
  assert.deepEqual(a.containers.map((c) => [c.name, c.dockerUp, c.state]), [['web', true, 'running']]);
  const b = await status('b');
  assert.equal(b.groups[0]!.localClaim, 'none');
  assert.deepEqual(b.containers.map((c) => [c.name, c.dockerUp, c.state]), [['web', true, 'paused']]);
});

test("2. docker kill of A's sidecar: B unpauses its nginx and serves; A takes back when its sidecar returns", async (t) => {
  if (!ready(t)) return;
  const sidecar = await containerOf('a', 'sidecar');
  const killedAt = lab!.now();
  await engines.a.docker(['kill', sidecar]);
  const gap = await moveGap('docker kill of A\'s sidecar', killedAt, 'b', DEADTIME_MS + 10_000);
  assert.ok(gap < DEADTIME_MS + 2_000, `served again after ${gap} ms; the bound is deadtime + 2 s`);
  assert.equal(await webStatus('b'), 'running');
  // the killed sidecar's VIP lapses by its kernel lease
  await waitFor(async () => (await lab!.holders(LAB_VIP)).join() === 'b', { what: 'only B holding', timeoutMs: 5000 });
  const back = await restartA('after docker kill');
  await aHolds(30_000);
  await moveGap('failback to A (auto_failback on)', back, 'a', 1000);
});

test("3. A's nginx stopped: B takes over and A releases the VIP; A takes back once nginx runs", async (t) => {
  if (!ready(t)) return;
  const stoppedAt = lab!.now();
  await engines.a.docker(['stop', '-t', '1', 'web']);
  await moveGap("A's nginx stopped", stoppedAt, 'b', 15_000);
  await waitFor(async () => (await lab!.holders(LAB_VIP)).join() === 'b', { what: 'A releasing the VIP', timeoutMs: 5000 });
  assert.equal(await webStatus('b'), 'running');
  const a = await status('a');
  assert.equal(a.groups[0]!.localClaim, 'none');
  assert.equal(a.containers[0]!.state, 'exited');
  const back = lab!.now();
  await engines.a.docker(['start', 'web']);
  await aHolds(30_000);
  await moveGap('failback once nginx runs again', back, 'a', 1000);
});

test("4. docker stop of A's sidecar: handover without waiting for deadtime, never two holders", async (t) => {
  if (!ready(t)) return;
  const watch = watchDoubleHolders(lab!);
  const sidecar = await containerOf('a', 'sidecar');
  const stoppedAt = lab!.now();
  await engines.a.docker(['stop', sidecar]);
  const gap = await moveGap("docker stop of A's sidecar", stoppedAt, 'b', 5000);
  assert.ok(gap < 2000, `a planned handover took ${gap} ms`);
  assert.equal(await webStatus('a'), 'paused', 'A paused its nginx on the way out');
  const back = await restartA('after docker stop');
  await aHolds(30_000);
  await moveGap('failback to the restarted sidecar', back, 'a', 1000);
  const { samples, double } = await watch.stop();
  assert.ok(samples > 50, `only ${samples} holder samples`);
  assert.equal(double, 0, `${double} of ${samples} samples saw the VIP on both hosts`);
});

test('6. a real Prometheus in the client namespace scrapes both sidecars and sees exactly one holder', async (t) => {
  if (!ready(t)) return;
  const dir = path.join(lab!.dir, 'prometheus');
  fs.cpSync(path.join(REPO, 'compose/prometheus'), dir, { recursive: true });
  const config = path.join(dir, 'prometheus.yml');
  const targets = `['${lab!.hosts.a!.address}:${API_PORT}', '${lab!.hosts.b!.address}:${API_PORT}']`;
  fs.writeFileSync(config, fs.readFileSync(config, 'utf8').replace(/targets: \[[^\]]*\]/, `targets: ${targets}`));
  const prom = lab!.spawn('client', ['prometheus', `--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, '--web.listen-address=127.0.0.1:9090']);
  try {
    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const r = await lab!.exec('client', ['busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:9090/api/v1/query?query=${encodeURIComponent(q)}`], { timeoutMs: 5000 });
      if (r.code !== 0) throw new Error(`query ${q}: ${r.stderr.trim() || `exit ${r.code}`}`);
      return (JSON.parse(r.stdout) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }).data.result;
    };
    // both targets scraped (5 s interval, as shipped)
    await waitFor(async () => (await query('up == 1').catch(() => [])).length === 2, { what: 'Prometheus scraping both sidecars', timeoutMs: 30_000 });
    const held = await query('heartbeat_group_held == 1');
    assert.deepEqual(held.map((s) => s.metric.instance), [`${lab!.hosts.a!.address}:${API_PORT}`]);
    const total = await query('sum by (pair, group) (heartbeat_group_held)');
    assert.deepEqual(total.map((s) => s.value[1]), ['1']);
    assert.deepEqual((await query('heartbeat_docker_up')).map((s) => s.value[1]), ['1', '1']);
    // the shipped alert rules loaded and none fires
    const rules = await lab!.exec('client', ['busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:9090/api/v1/rules'], { timeoutMs: 5000 });
    assert.match(rules.stdout, /VipHeldTwice/);
    assert.deepEqual(await query('ALERTS{alertstate="firing"}'), []);
  } finally {
    lab!.kill(prom, 'SIGTERM', 'process');
    await lab!.waitExit(prom, 10_000);
  }
});

test("5. A's dockerd stopped while A holds: the sidecar keeps running and says so, A keeps serving; Docker back is seen", async (t) => {
  if (!ready(t)) return;
  const watch = watchDoubleHolders(lab!);
  const stoppedAt = lab!.now();
  await engines.a.stop('SIGTERM');
  // The containers live on (live-restore); the sidecar cannot reach Docker and reports it.
  await waitFor(async () => (await status('a')).containers[0]!.dockerUp === false, { what: "A's /status saying Docker is down", timeoutMs: 10_000 });
  const metrics = await apiGet('a', '/metrics');
  assert.match(metrics, /^heartbeat_docker_up\{container="web"\} 0$/m);
  // Chosen: keep serving. nginx still runs; handing over would only cost the clients a gap.
  await sleep(3000);
  assert.deepEqual(await lab!.holders(LAB_VIP), ['a']);
  const gap = longestGap(prober!.records, stoppedAt, lab!.now());
  gaps.push(`A's dockerd stopped: longest client-seen gap ${gap.ms.toFixed(0)} ms (probes every 20 ms)`);
  assert.ok(gap.ms < 500, `the client saw a ${gap.ms} ms gap while A's Docker was down`);
  assert.equal((await status('b')).groups[0]!.holder, 'cookbook');

  await engines.a.start();
  await waitFor(async () => (await status('a')).containers[0]!.dockerUp === true, { what: "A's /status seeing Docker again", timeoutMs: 15_000 });
  assert.match(await apiGet('a', '/metrics'), /^heartbeat_docker_up\{container="web"\} 1$/m);
  await aHolds(10_000);
  const { double } = await watch.stop();
  assert.equal(double, 0);
});
