/**
 * The Docker adapter against a real engine: one dockerd in a lab host's namespace, a busybox
 * container as the protected service. The same behaviours the unit tests pin on a fake
 * (sidecar/src/resources/docker.test.ts) must hold on Docker itself: idempotent acquire and
 * release by policy, health from HEALTHCHECK, events, and the event stream surviving a dockerd
 * restart. About 15 s.
 */
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createLab, waitFor, type Lab } from '../lab/netns.js';
import { dockerLabUnavailable, importBusybox, IMAGES, requireDockerLab, startEngine, type DockerEngine } from '../lab/docker.js';
import { createDockerContainerDriver, DockerError, watchDockerEvents, type DockerClient, type DockerWatchEvent } from '../../sidecar/src/resources/docker.js';

const logger = pino({ level: 'silent' });
let lab: Lab | undefined;
let engine: DockerEngine | undefined;
let client: DockerClient;

function ready(t: TestContext): boolean {
  return requireDockerLab(t) && engine !== undefined;
}

before(async () => {
  if (dockerLabUnavailable() !== null || process.getuid?.() !== 0) return;
  lab = await createLab({ hosts: ['a'], name: 'docker-driver' });
  // live-restore: the containers keep running while this test stops and restarts dockerd
  engine = await startEngine(lab, 'a', { liveRestore: true });
  await importBusybox(engine);
  client = engine.client();
});

after(async () => {
  await engine?.destroy();
  await lab?.destroy();
});

async function run(name: string, extra: string[] = [], cmd: string[] = ['sh', '-c', 'echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp']): Promise<void> {
  await engine!.docker(['rm', '-f', name], { check: false });
  await engine!.docker(['run', '-d', '--name', name, '--network', 'host', ...extra, IMAGES.busybox, ...cmd]);
}

const status = async (name: string): Promise<string> => (await engine!.docker(['inspect', '-f', '{{.State.Status}}', name])).stdout.trim();

test('pause/unpause policy: release pauses, acquire unpauses, and both are idempotent', async (t) => {
  if (!ready(t)) return;
  await run('web');
  const driver = createDockerContainerDriver(client, { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause' }, logger);
  assert.deepEqual((await driver.release()).steps, ['pause']);
  assert.equal(await status('web'), 'paused');
  assert.deepEqual((await driver.release()).steps, []);
  assert.deepEqual((await driver.acquire()).steps, ['unpause']);
  assert.equal(await status('web'), 'running');
  assert.deepEqual((await driver.acquire()).steps, []);
  // serving again: the client reaches it on the host's address
  const r = await lab!.exec('client', ['busybox', 'wget', '-q', '-O', '-', `http://${lab!.hosts.a!.address}:8080/`], { timeoutMs: 5000 });
  assert.equal(r.stdout.trim(), 'ok');
});

test('stop/start policy on a paused container; a stopped container is started on acquire', async (t) => {
  if (!ready(t)) return;
  await run('web');
  await engine!.docker(['pause', 'web']);
  const driver = createDockerContainerDriver(client, { name: 'web', onAcquire: 'start', onRelease: 'stop', stopTimeoutSec: 1 }, logger);
  assert.deepEqual((await driver.release()).steps, ['unpause', 'stop']);
  assert.equal(await status('web'), 'exited');
  assert.deepEqual((await driver.release()).steps, []);
  assert.deepEqual((await driver.acquire()).steps, ['start']);
  assert.equal(await status('web'), 'running');
});

test('races with Docker: its 304, 409 and 500 refusals, and a restart', async (t) => {
  if (!ready(t)) return;
  await run('web');
  const c = client.getContainer('web');
  // What the driver meets when someone else got there first: Docker's own answers. 304 for
  // start; for pause and unpause 20.10 says 500 (newer engines 409), in words only.
  const conflict = (e: { statusCode?: number }): boolean => e.statusCode === 409 || e.statusCode === 500;
  const within = () => ({ abortSignal: AbortSignal.timeout(10_000) });
  await assert.rejects(c.start(within()), (e: { statusCode?: number }) => e.statusCode === 304);
  await c.pause(within());
  await assert.rejects(c.pause(within()), conflict);
  await c.unpause(within());
  await assert.rejects(c.unpause(within()), conflict);
  const driver = createDockerContainerDriver(client, { name: 'web', onAcquire: 'restart', onRelease: 'pause', stopTimeoutSec: 1 }, logger);
  const r = await driver.acquire();
  assert.deepEqual(r.steps, ['restart']);
  assert.equal(r.after.status, 'running');
});

test('Compose service names resolve through the labels; a missing container is HB_CONTAINER_MISSING', async (t) => {
  if (!ready(t)) return;
  await run('site_web_1', ['--label', 'com.docker.compose.service=svc', '--label', 'com.docker.compose.project=site'], ['sleep', '600']);
  const driver = createDockerContainerDriver(client, { name: 'svc', project: 'site', onAcquire: 'unpause-or-start', onRelease: 'pause' }, logger);
  assert.equal((await driver.inspect()).name, 'site_web_1');
  assert.deepEqual((await driver.release()).steps, ['pause']);
  const none = createDockerContainerDriver(client, { name: 'nothing-here', onAcquire: 'unpause-or-start', onRelease: 'pause' }, logger);
  await assert.rejects(none.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_CONTAINER_MISSING');
  await engine!.docker(['rm', '-f', 'site_web_1']);
});

test('HEALTHCHECK verdicts reach inspect, and events report them', async (t) => {
  if (!ready(t)) return;
  const seen: DockerWatchEvent[] = [];
  const w = watchDockerEvents(client, { name: 'hc' }, (e) => seen.push(e), logger);
  try {
    await waitFor(() => w.up, { what: 'event stream connected' });
    await run('hc', ['--health-cmd', 'test -e /tmp/ok', '--health-interval', '1s', '--health-retries', '1'], ['sh', '-c', 'touch /tmp/ok; exec sleep 600']);
    const driver = createDockerContainerDriver(client, { name: 'hc', onAcquire: 'unpause-or-start', onRelease: 'pause' }, logger);
    await waitFor(async () => (await driver.inspect()).health === 'healthy', { timeoutMs: 10_000, what: 'healthy' });
    await engine!.docker(['exec', 'hc', 'rm', '/tmp/ok']);
    await waitFor(async () => (await driver.inspect()).health === 'unhealthy', { timeoutMs: 10_000, what: 'unhealthy' });
    await waitFor(() => seen.some((e) => e.type === 'container' && e.action === 'health_status' && e.health === 'unhealthy'), { timeoutMs: 5000, what: 'health_status event' });
    const actions = seen.flatMap((e) => (e.type === 'container' ? [e.action] : []));
    assert.ok(actions.includes('start'), `start event among ${actions.join(', ')}`);
    assert.ok(!actions.some((a) => a.startsWith('exec')), 'probe execs are filtered out');
  } finally {
    w.stop();
    await engine!.docker(['rm', '-f', 'hc'], { check: false });
  }
});

test('dockerd going away: driver errors are HB_DOCKER_UNAVAILABLE, the watcher reports down and re-subscribes', async (t) => {
  if (!ready(t)) return;
  await run('web');
  const seen: DockerWatchEvent[] = [];
  const w = watchDockerEvents(client, { name: 'web' }, (e) => seen.push(e), logger, { minBackoffMs: 50, maxBackoffMs: 200 });
  const driver = createDockerContainerDriver(client, { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause' }, logger);
  try {
    await waitFor(() => w.up, { what: 'event stream connected' });
    await engine!.stop('SIGTERM');
    await waitFor(() => !w.up, { what: 'watcher sees Docker down' });
    await assert.rejects(driver.inspect(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_UNAVAILABLE');
    // live-restore: the protected container did not notice
    await engine!.start();
    await waitFor(() => w.up, { timeoutMs: 10_000, what: 'watcher re-subscribed' });
    assert.equal((await driver.inspect()).status, 'running');
    await driver.release();
    await waitFor(() => seen.some((e) => e.type === 'container' && e.action === 'pause'), { what: 'pause event after re-subscribing' });
    const docker = seen.flatMap((e) => (e.type === 'docker' ? [e.up] : []));
    assert.deepEqual(docker, [true, false, true]);
  } finally {
    w.stop();
  }
});
