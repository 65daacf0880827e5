/**
 * The HAProxy pair as a user runs it, at native default timings (keepalive 100 ms, deadtime
 * 800 ms, a 2 s VIP lease): compose/haproxy from its README, with only addresses and image names
 * changed, the shared key made as the README says, and a short HEALTHCHECK interval (2 s) in
 * the env files. Each host's HAProxy balances over two application servers of its own (busybox
 * httpd in the client namespace), so a host's backends can fail while the other's serve.
 *
 * Scenarios, in order: both come up and one serves; the holder's backends fail, its HAProxy
 * turns unhealthy and the peer takes over, once, with no re-acquire until it is healthy again
 * and none after (auto_failback off); a standby whose HAProxy stayed paused for several
 * HEALTHCHECK intervals takes over on `docker stop` of the holder's sidecar and does not flap in
 * the next 60 s; the holder's dockerd stopped for 30 s, with no client probe lost.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { failures, longestGap } from '../lab/analysis.js';
import { IMAGES, requireDockerLab } from '../lab/docker.js';
import { waitFor, type Lab } from '../lab/netns.js';
import { LAB_VIP, watchDoubleHolders } from '../lab/sidecar.js';
import { composeLabPossible, HOSTS, other, startComposePair, type ComposePair, type Host } from './compose-lab.js';

const NODE_OF: Record<Host, string> = { a: 'lb-a', b: 'lb-b' };
const HEALTH_INTERVAL_MS = 2000;
const HEALTH_RETRIES = 3;
const DEADTIME_MS = 800;
/** Each host's two application servers, on the client's address. */
const BACKEND_PORTS: Record<Host, [number, number]> = { a: [8081, 8082], b: [8083, 8084] };

let pair: ComposePair | undefined;
const backends = new Map<Host, ChildProcess[]>();

function ready(t: TestContext): ComposePair | null {
  if (!requireDockerLab(t)) return null;
  assert.ok(pair !== undefined, 'the two-host HAProxy setup failed (see the before hook)');
  return pair;
}

/** compose/haproxy for one host: lab addresses, the lab's images and socket, this host's backends. */
function prepare(dir: string, host: Host, lab: Lab, engine: { socket: string }): void {
  const sub = (file: string, pairs: Array<[string | RegExp, string]>): void => {
    let text = fs.readFileSync(path.join(dir, file), 'utf8');
    for (const [from, to] of pairs) text = text.replaceAll(from, to);
    fs.writeFileSync(path.join(dir, file), text);
  };
  const yamlFile = 'config/heartbeat-sidecar.yaml';
  const yaml = fs.readFileSync(path.join(dir, yamlFile), 'utf8');
  const peers = /peers: \[([^\]]+)\]/.exec(yaml)![1]!.split(',').map((p) => p.trim());
  const vip = /vips: \[([\d.]+)\//.exec(yaml)![1]!;
  sub(yamlFile, [
    [peers[0]!, lab.hosts.a!.address],
    [peers[1]!, lab.hosts.b!.address],
    [`${vip}/`, `${LAB_VIP}/`],
  ]);
  const servers = [...fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8').matchAll(/server \S+ (\S+) check/g)].map((m) => m[1]!);
  assert.equal(servers.length, 2, 'haproxy.cfg names two servers');
  sub('haproxy.cfg', servers.map((s, i): [string, string] => [s, `${lab.client.address}:${BACKEND_PORTS[host][i]}`]));
  // as the README says: openssl rand -hex 32 > config/authkey && chmod 600 config/authkey
  const key = path.join(dir, 'config/authkey');
  if (host === 'a') fs.writeFileSync(key, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  else fs.copyFileSync(path.join(dir, '../haproxy-a/config/authkey'), key);
  fs.chmodSync(key, 0o600);
  fs.appendFileSync(path.join(dir, `host-${host}.env`), `HB_IMAGE=${IMAGES.sidecar}\nHAPROXY_IMAGE=${IMAGES.haproxy}\nDOCKER_SOCKET=${engine.socket}\nHAPROXY_HEALTH_INTERVAL=${HEALTH_INTERVAL_MS / 1000}s\n`);
}

/** The page names the host whose HAProxy asked, so the client can tell who served it. */
function startBackends(lab: Lab, host: Host): void {
  const root = path.join(lab.dir, `backend-${host}`);
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), host);
  backends.set(
    host,
    BACKEND_PORTS[host].map((port) => lab.spawn('client', ['busybox', 'httpd', '-f', '-p', `${lab.client.address}:${port}`, '-h', root])),
  );
}

async function stopBackends(lab: Lab, host: Host): Promise<void> {
  for (const child of backends.get(host) ?? []) {
    lab.kill(child, 'SIGTERM', 'process');
    await lab.waitExit(child, 5000);
  }
  backends.delete(host);
}

/** The one host holding the VIP and serving the client; fails if two hold it. */
async function holder(p: ComposePair, timeoutMs: number): Promise<Host> {
  let found: Host | null = null;
  await waitFor(
    async () => {
      const held = (await p.lab.holders(LAB_VIP)) as Host[];
      assert.ok(held.length < 2, `the VIP is on ${held.join(' and ')}`);
      found = held[0] ?? null;
      return found !== null;
    },
    { what: 'one host holding the VIP', timeoutMs },
  );
  const t = p.lab.now();
  await p.prober.waitFor((r) => r.host === found && r.sentAt >= t, 5000);
  return found!;
}

before(async () => {
  if (!composeLabPossible()) return;
  pair = await startComposePair('haproxy', 'haproxy-e2e', (dir, host, lab, engine) => {
    prepare(dir, host, lab, engine);
    startBackends(lab, host);
  });
});

after(async () => {
  for (const h of HOSTS) if (pair !== undefined) await stopBackends(pair.lab, h);
  await pair?.destroy();
});

test('1. compose/haproxy comes up from its README on both hosts: one serves through the VIP, the other HAProxy is paused', async (t) => {
  const p = ready(t);
  if (p === null) return;
  const first = await holder(p, 60_000);
  const standby = other(first);
  await waitFor(async () => (await p.containerState(standby, await p.containerOf(standby, 'haproxy'))) === 'paused', { what: `${standby}'s HAProxy paused`, timeoutMs: 30_000 });
  const s = await p.status(first);
  assert.equal(s.groups[0]!.holder, NODE_OF[first]);
  assert.deepEqual(s.containers.map((c) => [c.name, c.dockerUp, c.state]), [['haproxy', true, 'running']]);
  assert.deepEqual(await p.takes(), { [first]: 1, [standby]: 0 });
});

test("2. the holder's HAProxy turns unhealthy: the peer serves once, no re-acquire until healthy, none after (auto_failback off)", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const first = await holder(p, 10_000);
  const second = other(first);
  const before = await p.takes();
  const brokenAt = p.lab.now();
  await stopBackends(p.lab, first);
  const bound = HEALTH_INTERVAL_MS * HEALTH_RETRIES + DEADTIME_MS + 2000;
  await p.moveGap(`${first}'s backends down (HAProxy unhealthy)`, brokenAt, second, bound);
  const firstId = await p.containerOf(first, 'haproxy');
  // Docker's own verdict, which the sidecar's HTTP check may have beaten
  await waitFor(async () => (await p.engines[first].docker(['inspect', '-f', '{{.State.Health.Status}}', firstId])).stdout.trim() === 'unhealthy', {
    what: `Docker calling ${first}'s HAProxy unhealthy`,
    timeoutMs: HEALTH_INTERVAL_MS * (HEALTH_RETRIES + 2),
  });
  // 15 s unfit: the VIP stays on the peer, and the unfit HAProxy is left running to be watched
  const watch = await watchDoubleHolders(p.lab);
  await sleep(15_000);
  assert.deepEqual(await p.lab.holders(LAB_VIP), [second]);
  assert.equal(await p.containerState(first, firstId), 'running', 'an unfit container is left running so its recovery can be seen');
  const s = await p.status(first);
  assert.equal(s.healthy, false);
  assert.ok(s.healthReasons.length > 0, '/status gives the reasons');
  assert.deepEqual(await p.takes(), { [first]: before[first], [second]: before[second]! + 1 }, 'exactly one transition');

  startBackends(p.lab, first);
  await waitFor(async () => (await p.status(first)).healthy, { what: `${first} healthy again`, timeoutMs: HEALTH_INTERVAL_MS * 4 + 5000 });
  // fit again, it is a standby like any other: its HAProxy is paused, and the VIP stays
  await waitFor(async () => (await p.containerState(first, firstId)) === 'paused', { what: `${first}'s HAProxy paused as a fit standby`, timeoutMs: 10_000 });
  await sleep(5000);
  assert.deepEqual(await p.lab.holders(LAB_VIP), [second]);
  assert.deepEqual(await p.takes(), { [first]: before[first], [second]: before[second]! + 1 }, 'still one transition: auto_failback is off');
  const { samples, double } = await watch.stop();
  assert.equal(double, 0, `${double} of ${samples} samples saw the VIP on both hosts`);
});

test("3. a standby paused for several HEALTHCHECK intervals takes over on docker stop of the holder's sidecar, and does not flap", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const first = await holder(p, 10_000);
  const standby = other(first);
  const standbyId = await p.containerOf(standby, 'haproxy');
  assert.equal(await p.containerState(standby, standbyId), 'paused');
  await sleep(HEALTH_INTERVAL_MS * 3);
  const before = await p.takes();
  const watch = await watchDoubleHolders(p.lab);
  const stoppedAt = p.lab.now();
  await p.engines[first].docker(['stop', await p.containerOf(first, 'sidecar')]);
  const gap = await p.moveGap(`docker stop of ${first}'s sidecar, ${standby}'s HAProxy paused ${HEALTH_INTERVAL_MS * 3} ms+`, stoppedAt, standby, 5000);
  assert.ok(gap < 2000, `a planned handover took ${gap} ms`);
  const takenAt = p.lab.now();
  await sleep(60_000);
  assert.deepEqual(await p.lab.holders(LAB_VIP), [standby]);
  // the stopped sidecar cannot be asked; the new holder counts its own
  assert.equal((await p.takes([standby]))[standby], before[standby]! + 1, 'exactly one transition');
  const lost = failures(p.prober.records, { from: takenAt, to: p.lab.now() });
  p.note(`after the takeover: ${lost} failed probes and the longest gap ${longestGap(p.prober.records, takenAt, p.lab.now()).ms.toFixed(0)} ms in 60 s`);
  assert.equal(lost, 0);
  assert.ok((await p.status(standby)).healthy, 'healthy once Docker probed the unpaused HAProxy');
  const { double } = await watch.stop();
  assert.equal(double, 0);
  // the stopped sidecar comes back as the standby (auto_failback off)
  await p.compose(first, ['up', '-d']);
  await waitFor(async () => (await p.status(first).catch(() => null))?.groups[0]?.holder === NODE_OF[standby], { what: `${first}'s sidecar back, seeing ${standby} hold`, timeoutMs: 30_000 });
});

test("4. the holder's dockerd stopped for 30 s at native timings: no client probe lost, Docker down shown, its return seen", async (t) => {
  const p = ready(t);
  if (p === null) return;
  const first = await holder(p, 10_000);
  const watch = await watchDoubleHolders(p.lab);
  const stoppedAt = p.lab.now();
  await p.engines[first].stop('SIGTERM');
  await waitFor(async () => (await p.status(first)).containers[0]!.dockerUp === false, { what: `${first}'s /status saying Docker is down`, timeoutMs: 10_000 });
  assert.match(await p.api(first, '/metrics'), /^heartbeat_docker_up\{container="haproxy"\} 0$/m);
  await sleep(30_000 - (p.lab.now() - stoppedAt));
  const downFor = p.lab.now() - stoppedAt;
  await p.engines[first].start();
  const lost = failures(p.prober.records, { from: stoppedAt, to: p.lab.now() });
  const gap = longestGap(p.prober.records, stoppedAt, p.lab.now());
  p.note(`${first}'s dockerd stopped for ${(downFor / 1000).toFixed(1)} s: ${lost} failed probes, longest gap ${gap.ms.toFixed(0)} ms`);
  assert.equal(lost, 0);
  assert.deepEqual(await p.lab.holders(LAB_VIP), [first]);
  await waitFor(async () => (await p.status(first)).containers[0]!.dockerUp === true, { what: `${first}'s /status seeing Docker again`, timeoutMs: 15_000 });
  assert.match(await p.api(first, '/metrics'), /^heartbeat_docker_up\{container="haproxy"\} 1$/m);
  const { double } = await watch.stop();
  assert.equal(double, 0);
});
