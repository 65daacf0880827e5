import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import pino from 'pino';
import { FakeTime, settle } from '../../../test/support/fake-time.js';
import { createDockerContainerDriver, DockerError, planAcquire, planReconcile, planRelease, watchDockerEvents, type ContainerHandle, type ContainerStatus, type DockerClient, type DockerWatchEvent, type InspectInfo } from './docker.js';
import type { ContainerPolicy } from '../domain/groups.js';

const logger = pino({ level: 'silent' });

// The real client satisfies the port's structural subset: this line is the compile-time check.
const realClientFits: DockerClient = new Docker({ socketPath: '/nonexistent/docker.sock' });
void realClientFits;

interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: Exclude<ContainerStatus, 'missing'>;
  health?: { Status: string; Log?: Array<{ Output?: string }> };
  exitCode: number;
  healthcheck?: { Test: string[]; Interval?: number; Timeout?: number; Retries?: number };
  /** What its HEALTHCHECK command does when run by exec: exit code and output, or never end. */
  probe?: { exit: number; output: string } | 'hang';
}

type Method = 'inspect' | 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'list' | 'events';

/** Errors shaped as docker-modem makes them: an HTTP status, or a socket error code. */
const httpError = (statusCode: number, message: string): Error => Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode, json: { message } });
const sockError = (code: string): Error => Object.assign(new Error(`connect ${code} /var/run/docker.sock`), { code });

/**
 * An in-memory Docker with the Engine API's answers as Docker 20.10 gives them (checked in
 * test/e2e/docker-driver.test.ts): 304 for start-when-running and stop-when-stopped, 500 for
 * pause-when-paused and unpause-when-not-paused (newer engines say 409), 409 for start-when-paused.
 */
class FakeDocker implements DockerClient {
  readonly containers: FakeContainer[] = [];
  readonly calls: string[] = [];
  /** One-shot failures, by method. */
  readonly failNext = new Map<Method, Error>();
  /** Every call fails with this (Docker down) while set. */
  down: Error | null = null;
  streams: PassThrough[] = [];

  add(c: Partial<FakeContainer> & { name: string }): FakeContainer {
    const full: FakeContainer = { id: `${c.name}`.padEnd(12, '0') + 'ffffffff'.repeat(6), labels: {}, status: 'running', exitCode: 0, ...c };
    this.containers.push(full);
    return full;
  }

  private check(m: Method): void {
    if (this.down) throw this.down;
    const e = this.failNext.get(m);
    if (e) {
      this.failNext.delete(m);
      throw e;
    }
  }

  private find(ref: string): FakeContainer {
    const c = this.containers.find((x) => x.id === ref || x.name === ref) ?? this.containers.find((x) => x.id.startsWith(ref));
    if (!c) throw httpError(404, `No such container: ${ref}`);
    return c;
  }

  getContainer(ref: string): ContainerHandle {
    const act = async (m: Method, fn: (c: FakeContainer) => void): Promise<void> => {
      this.calls.push(`${m} ${ref}`);
      this.check(m);
      fn(this.find(ref));
    };
    return {
      inspect: async (): Promise<InspectInfo> => {
        this.calls.push(`inspect ${ref}`);
        this.check('inspect');
        const c = this.find(ref);
        return { Id: c.id, Name: `/${c.name}`, State: { Status: c.status, ExitCode: c.exitCode, OOMKilled: false, Health: c.health }, Config: { Healthcheck: c.healthcheck } };
      },
      exec: async (opts) => {
        this.calls.push(`exec ${ref} ${opts.Cmd.join(' ')}`);
        const c = this.find(ref);
        const probe = c.probe ?? { exit: 0, output: '' };
        return {
          start: async () => {
            const s = new PassThrough();
            if (probe !== 'hang') {
              // one stdout frame, as Docker sends an attached exec's output without a TTY
              const body = Buffer.from(probe.output);
              const header = Buffer.alloc(8);
              header[0] = 1;
              header.writeUInt32BE(body.length, 4);
              s.end(Buffer.concat([header, body]));
            }
            return s;
          },
          inspect: async () => ({ ExitCode: probe === 'hang' ? null : probe.exit, Running: probe === 'hang' }),
        };
      },
      start: () =>
        act('start', (c) => {
          if (c.status === 'running') throw httpError(304, 'container already started');
          if (c.status === 'paused') throw httpError(409, 'cannot start a paused container, try unpause instead');
          c.status = 'running';
        }),
      stop: () =>
        act('stop', (c) => {
          if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') throw httpError(304, 'container already stopped');
          c.status = 'exited';
          c.exitCode = 0;
        }),
      restart: () => act('restart', (c) => void (c.status = 'running')),
      pause: () =>
        act('pause', (c) => {
          if (c.status === 'paused') throw httpError(500, `Container ${c.id} is already paused`);
          if (c.status !== 'running') throw httpError(500, `Container ${c.id} is not running`);
          c.status = 'paused';
        }),
      unpause: () =>
        act('unpause', (c) => {
          if (c.status !== 'paused') throw httpError(500, `Container ${c.id} is not paused`);
          c.status = 'running';
        }),
    };
  }

  async listContainers(opts: { all: boolean; filters: { label: string[] } }): Promise<Array<{ Id: string; Names?: string[] }>> {
    this.calls.push(`list ${opts.filters.label.join(',')}`);
    this.check('list');
    return this.containers
      .filter((c) => opts.filters.label.every((l) => c.labels[l.split('=')[0]!] === l.split('=').slice(1).join('=')))
      .map((c) => ({ Id: c.id, Names: [`/${c.name}`] }));
  }

  async getEvents(): Promise<NodeJS.ReadableStream> {
    this.calls.push('events');
    this.check('events');
    const s = new PassThrough();
    this.streams.push(s);
    return s;
  }
}

const policy = (p: Partial<ContainerPolicy> = {}): ContainerPolicy => ({ name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause', ...p });
const actions = (d: FakeDocker): string[] => d.calls.filter((c) => !c.startsWith('inspect') && !c.startsWith('list'));

// ---- planner -----------------------------------------------------------------------------------

test('acquire plan: the policy names the intent, the state picks the step', () => {
  const table: Array<[Parameters<typeof planAcquire>[0], ContainerStatus, string]> = [
    ['unpause-or-start', 'running', ''],
    ['unpause-or-start', 'paused', 'unpause'],
    ['unpause-or-start', 'exited', 'start'],
    ['unpause-or-start', 'created', 'start'],
    ['unpause-or-start', 'restarting', ''],
    ['unpause-or-start', 'missing', 'refused'],
    ['unpause-or-start', 'dead', 'refused'],
    ['start', 'exited', 'start'],
    ['start', 'paused', 'unpause'],
    ['unpause', 'paused', 'unpause'],
    ['unpause', 'exited', 'refused'],
    ['restart', 'running', 'restart'],
    ['restart', 'paused', 'unpause,restart'],
    ['restart', 'exited', 'restart'],
    ['none', 'missing', ''],
    ['none', 'exited', ''],
  ];
  for (const [p, status, want] of table) {
    const r = planAcquire(p, status);
    assert.equal(r.ok ? r.steps.join(',') : 'refused', want, `${p} on ${status}`);
  }
});

test('release plan: not running already counts as released; a paused container is thawed before stop', () => {
  const table: Array<[Parameters<typeof planRelease>[0], ContainerStatus, string]> = [
    ['pause', 'running', 'pause'],
    ['pause', 'paused', ''],
    ['pause', 'exited', ''],
    ['pause', 'missing', ''],
    ['pause', 'restarting', 'stop'],
    ['stop', 'running', 'stop'],
    ['stop', 'paused', 'unpause,stop'],
    ['stop', 'exited', ''],
    ['none', 'running', ''],
  ];
  for (const [p, status, want] of table) {
    const r = planRelease(p, status);
    assert.ok(r.ok);
    assert.equal(r.steps.join(','), want, `${p} on ${status}`);
  }
});

test('reconcile never restarts a running holder, and puts a running standby back to its release state', () => {
  const restart = policy({ onAcquire: 'restart' });
  assert.deepEqual(planReconcile(restart, true, 'running'), { ok: true, steps: [] });
  assert.deepEqual(planReconcile(restart, true, 'paused'), { ok: true, steps: ['unpause'] });
  // an exited holder container is the health check's business: reconcile does not start it
  assert.deepEqual(planReconcile(policy(), true, 'exited'), { ok: true, steps: [] });
  assert.deepEqual(planReconcile(policy({ onAcquire: 'start' }), true, 'created'), { ok: true, steps: [] });
  assert.deepEqual(planReconcile(policy(), false, 'running'), { ok: true, steps: ['pause'] });
  assert.deepEqual(planReconcile(policy({ onRelease: 'stop' }), false, 'paused'), { ok: true, steps: ['unpause', 'stop'] });
});

// ---- driver ------------------------------------------------------------------------------------

test('acquire unpauses a paused container, and a second acquire does nothing', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', status: 'paused' });
  const driver = createDockerContainerDriver(d, policy(), logger);
  const r = await driver.acquire();
  assert.deepEqual(r.steps, ['unpause']);
  assert.equal(r.before.status, 'paused');
  assert.equal(r.after.status, 'running');
  const again = await driver.acquire();
  assert.deepEqual(again.steps, []);
  assert.deepEqual(actions(d), [`unpause ${d.containers[0]!.id}`]);
});

test('acquire starts an exited container; release pauses; release again is a no-op', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', status: 'exited', exitCode: 137 });
  const driver = createDockerContainerDriver(d, policy(), logger);
  assert.deepEqual((await driver.acquire()).steps, ['start']);
  assert.deepEqual((await driver.release()).steps, ['pause']);
  assert.equal(c.status, 'paused');
  assert.deepEqual((await driver.release()).steps, []);
});

test('304 "already started" and 500/409 "already paused" from a race count as success', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', status: 'exited' });
  const driver = createDockerContainerDriver(d, policy(), logger);
  // Someone starts it between our inspect and our start: Docker answers 304.
  const realGet = d.getContainer.bind(d);
  let raced = false;
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return { ...h, start: async (o) => { if (!raced) { raced = true; c.status = 'running'; } return h.start(o); } };
  };
  const r = await driver.acquire();
  assert.equal(r.after.status, 'running');
  // And a pause race: Docker answers 500 "already paused"; a look shows it paused, so it is done.
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return { ...h, pause: async (o) => { c.status = 'paused'; return h.pause(o); } };
  };
  const rel = await driver.release();
  assert.equal(rel.after.status, 'paused');
});

test('a refused step is done when the container is already where it leads; otherwise it is an error', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', status: 'paused' });
  const realGet = d.getContainer.bind(d);
  // someone unpaused it between our inspect and our unpause: Docker 20.10 says 500 "is not paused"
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return { ...h, unpause: async (o) => { c.status = 'running'; return h.unpause(o); } };
  };
  const driver = createDockerContainerDriver(d, policy(), logger);
  assert.equal((await driver.acquire()).after.status, 'running');
  // a refusal that leaves it paused is Docker's error, with its status
  d.getContainer = realGet;
  c.status = 'paused';
  d.failNext.set('unpause', httpError(409, 'Container is not paused'));
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_API' && e.statusCode === 409);
});

test('every step is reported with its outcome and duration, for the metrics', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', status: 'paused' });
  const steps: string[] = [];
  let clock = 0;
  const now = (): number => (clock += 250);
  const driver = createDockerContainerDriver(d, policy(), logger, { now, onStep: (step, ok, seconds) => steps.push(`${step} ${ok ? 'ok' : 'error'} ${seconds}`) });
  await driver.acquire();
  await driver.acquire();
  d.failNext.set('pause', httpError(500, 'cannot freeze'));
  await assert.rejects(driver.release(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_API');
  assert.deepEqual(steps, ['unpause ok 0.25', 'pause error 0.25']);
});

test('a step that worked but left the wrong state (it crashed at once) is HB_CONTAINER_STATE', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', status: 'exited' });
  const realGet = d.getContainer.bind(d);
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return { ...h, start: async (o) => { await h.start(o); c.status = 'exited'; c.exitCode = 1; } };
  };
  const driver = createDockerContainerDriver(d, policy(), logger);
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_CONTAINER_STATE' && /exited after start/.test(e.message));
});

test('stop policy: a paused container is unpaused, then stopped with the configured timeout', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', status: 'paused' });
  const stops: number[] = [];
  const realGet = d.getContainer.bind(d);
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return { ...h, stop: (o) => (stops.push(o.t), h.stop(o)) };
  };
  const driver = createDockerContainerDriver(d, policy({ onRelease: 'stop', stopTimeoutSec: 3 }), logger);
  assert.deepEqual((await driver.release()).steps, ['unpause', 'stop']);
  assert.equal(c.status, 'exited');
  assert.deepEqual(stops, [3]);
});

test('unpause policy refuses to start an exited container', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', status: 'exited' });
  const driver = createDockerContainerDriver(d, policy({ onAcquire: 'unpause' }), logger);
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_CONTAINER_STATE' && /never starts it/.test(e.message));
  assert.deepEqual(actions(d), []);
});

test('a missing container: acquire fails with HB_CONTAINER_MISSING, release succeeds, inspect says missing', async () => {
  const d = new FakeDocker();
  const driver = createDockerContainerDriver(d, policy(), logger);
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_CONTAINER_MISSING');
  assert.deepEqual((await driver.release()).steps, []);
  assert.equal((await driver.inspect()).status, 'missing');
});

test('found by Compose service label when no container has the name; ambiguity is an error', async () => {
  const d = new FakeDocker();
  d.add({ name: 'site_web_1', status: 'paused', labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'site' } });
  const driver = createDockerContainerDriver(d, policy(), logger);
  const r = await driver.acquire();
  assert.equal(r.after.name, 'site_web_1');
  d.add({ name: 'other_web_1', labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'other' } });
  await assert.rejects(driver.inspect(), (e: unknown) => e instanceof DockerError && e.code === 'HB_CONTAINER_AMBIGUOUS' && /site_web_1, other_web_1/.test(e.message));
  const narrowed = createDockerContainerDriver(d, policy({ project: 'other' }), logger);
  assert.equal((await narrowed.inspect()).name, 'other_web_1');
});

test('a name that is only an id prefix of another container does not pick that container', async () => {
  const d = new FakeDocker();
  d.add({ name: 'unrelated', id: 'cafe'.padEnd(64, '0') });
  const driver = createDockerContainerDriver(d, policy({ name: 'cafe' }), logger);
  assert.equal((await driver.inspect()).status, 'missing');
});

test('Docker down: HB_DOCKER_UNAVAILABLE; a server error: HB_DOCKER_API with its status', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', status: 'paused' });
  const driver = createDockerContainerDriver(d, policy(), logger);
  d.down = sockError('ECONNREFUSED');
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_UNAVAILABLE');
  d.down = sockError('ENOENT');
  await assert.rejects(driver.inspect(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_UNAVAILABLE');
  d.down = null;
  d.failNext.set('unpause', httpError(500, 'cgroup freezer: write error'));
  await assert.rejects(driver.acquire(), (e: unknown) => e instanceof DockerError && e.code === 'HB_DOCKER_API' && e.statusCode === 500 && /freezer/.test(e.message));
  // and it recovers on the next try
  assert.deepEqual((await driver.acquire()).steps, ['unpause']);
});

test('a call Docker never answers times out as HB_DOCKER_UNAVAILABLE', async () => {
  const time = new FakeTime();
  const d = new FakeDocker();
  d.add({ name: 'web' });
  const realGet = d.getContainer.bind(d);
  d.getContainer = (ref) => ({ ...realGet(ref), inspect: () => new Promise<InspectInfo>(() => {}) });
  const driver = createDockerContainerDriver(d, policy(), logger, { callTimeoutMs: 1000, timers: time });
  const p = driver.inspect();
  const outcome = p.then(() => 'resolved', (e: unknown) => (e instanceof DockerError ? e.code : 'other'));
  await time.advance(999);
  await settle();
  assert.equal(time.timerCount, 1);
  await time.advance(1);
  assert.equal(await outcome, 'HB_DOCKER_UNAVAILABLE');
});

/** One HTTP request as dockerode hands it to docker-modem's dial. */
interface Dialled {
  readonly method: string;
  readonly path: string;
  readonly abortSignal: AbortSignal | undefined;
}

test('a step past its time limit is aborted at the request, through dockerode and docker-modem, not left running', async () => {
  const time = new FakeTime();
  const dialled: Dialled[] = [];
  const pending = new Set<Dialled>();
  // docker-modem's part: dockerode calls dial(options, callback); the real modem hands
  // options.abortSignal to http.request as its signal, which fails the request with an AbortError.
  const modem = {
    dial(options: { method: string; path: string; abortSignal?: AbortSignal }, callback: (err: Error | null, data?: unknown) => void): void {
      const call: Dialled = { method: options.method, path: options.path, abortSignal: options.abortSignal };
      dialled.push(call);
      if (call.method === 'GET') {
        const info: InspectInfo = { Id: 'c0ffee', Name: '/web', State: { Status: 'running' } };
        void Promise.resolve().then(() => callback(null, info));
        return;
      }
      // A stuck dockerd: the pause is never answered, until the request is aborted.
      pending.add(call);
      call.abortSignal?.addEventListener('abort', () => {
        pending.delete(call);
        callback(Object.assign(new Error('The operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
      });
    },
  };
  // dockerode takes a ready modem as an option its type declarations do not list.
  const docker = new Docker({ modem } as unknown as Docker.DockerOptions);
  const driver = createDockerContainerDriver(docker, policy(), logger, { callTimeoutMs: 3000, timers: time });
  const outcome = driver.release().then(
    () => 'released',
    (e: unknown) => (e instanceof DockerError ? `${e.code}: ${e.message}` : String(e)),
  );
  await settle();
  const pause = dialled.find((c) => c.path.includes('/pause'));
  assert.ok(pause, `no pause request: ${dialled.map((c) => `${c.method} ${c.path}`).join(', ')}`);
  assert.ok(dialled.every((c) => c.abortSignal instanceof AbortSignal), 'every request carries a signal');
  await time.advance(2999);
  await settle();
  assert.equal(pause.abortSignal?.aborted, false, 'not aborted before the limit');
  assert.equal(pending.size, 1);
  await time.advance(1);
  assert.equal(pause.abortSignal?.aborted, true, 'aborted at the limit');
  assert.match(String((pause.abortSignal?.reason as Error | undefined)?.message), /pause timed out after 3000 ms/);
  assert.equal(pending.size, 0, 'no request is left waiting on dockerd');
  // reported as the timeout it was, not as the abort that followed it
  assert.match(await outcome, /^HB_DOCKER_UNAVAILABLE: .*pause: ETIMEDOUT$/);
  // The inspect that answered in time was never aborted.
  assert.equal(dialled[0]?.abortSignal?.aborted, false);
});

test('one apply at a time: a release waits for the acquire before it', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', status: 'paused' });
  const order: string[] = [];
  const realGet = d.getContainer.bind(d);
  let releaseUnpause!: () => void;
  d.getContainer = (ref) => {
    const h = realGet(ref);
    return {
      ...h,
      unpause: async (o) => {
        order.push('unpause begins');
        await new Promise<void>((r) => (releaseUnpause = r));
        order.push('unpause ends');
        return h.unpause(o);
      },
      pause: async (o) => (order.push('pause'), h.pause(o)),
    };
  };
  const driver = createDockerContainerDriver(d, policy(), logger);
  const a = driver.acquire();
  const r = driver.release();
  await settle();
  assert.deepEqual(order, ['unpause begins']);
  releaseUnpause();
  await Promise.all([a, r]);
  assert.deepEqual(order, ['unpause begins', 'unpause ends', 'pause']);
});

test("probe runs the container's own HEALTHCHECK by exec: CMD-SHELL under /bin/sh -c, exit 0 is ok", async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web', healthcheck: { Test: ['CMD-SHELL', 'curl -fs http://127.0.0.1/'], Interval: 2e9, Timeout: 1e9, Retries: 2 }, probe: { exit: 0, output: 'ok\n' } });
  const driver = createDockerContainerDriver(d, policy(), logger);
  assert.deepEqual((await driver.inspect()).healthcheck, { command: ['/bin/sh', '-c', 'curl -fs http://127.0.0.1/'], intervalMs: 2000, timeoutMs: 1000, retries: 2 });
  assert.deepEqual(await driver.probe(), { ok: true, output: 'ok' });
  assert.ok(d.calls.includes(`exec ${c.id} /bin/sh -c curl -fs http://127.0.0.1/`));
  c.probe = { exit: 1, output: 'HTTP 503' };
  assert.deepEqual(await driver.probe(), { ok: false, output: 'HTTP 503' });
  // CMD form: the arguments as they are, and Docker's defaults for what is unset
  c.healthcheck = { Test: ['CMD', 'pgrep', 'nginx'] };
  assert.deepEqual((await driver.inspect()).healthcheck, { command: ['pgrep', 'nginx'], intervalMs: 30_000, timeoutMs: 30_000, retries: 3 });
});

test('probe: nothing to run without a HEALTHCHECK (or NONE) or while not running; a probe past its timeout fails', async () => {
  const d = new FakeDocker();
  const c = d.add({ name: 'web' });
  const time = new FakeTime();
  const driver = createDockerContainerDriver(d, policy(), logger, { timers: time });
  assert.equal(await driver.probe(), null);
  c.healthcheck = { Test: ['NONE'] };
  assert.equal(await driver.probe(), null);
  c.healthcheck = { Test: ['CMD', 'true'], Timeout: 5e8 };
  c.status = 'paused';
  assert.equal(await driver.probe(), null);
  c.status = 'running';
  c.probe = 'hang';
  const result = driver.probe();
  await settle();
  await time.advance(500);
  assert.deepEqual(await result, { ok: false, output: 'health probe timed out after 500 ms' });
});

test('inspect reports health and the last probe output', async () => {
  const d = new FakeDocker();
  d.add({ name: 'web', health: { Status: 'unhealthy', Log: [{ Output: 'ok\n' }, { Output: 'curl: (7) Failed to connect\n' }] } });
  const s = await createDockerContainerDriver(d, policy(), logger).inspect();
  assert.equal(s.health, 'unhealthy');
  assert.equal(s.healthOutput, 'curl: (7) Failed to connect');
  d.containers[0]!.health = undefined;
  assert.equal((await createDockerContainerDriver(d, policy(), logger).inspect()).health, 'none');
});

// ---- events ------------------------------------------------------------------------------------

const line = (o: object): string => `${JSON.stringify(o)}\n`;
const ev = (action: string, attrs: Record<string, string>): object => ({ Type: 'container', Action: action, Actor: { ID: 'abc', Attributes: attrs } });

test('events: only the protected container, by name or Compose service; split lines are joined', async () => {
  const time = new FakeTime();
  const d = new FakeDocker();
  const seen: DockerWatchEvent[] = [];
  const w = watchDockerEvents(d, { name: 'web', project: 'site' }, (e) => seen.push(e), logger, { timers: time });
  await settle();
  assert.deepEqual(seen, [{ type: 'docker', up: true }]);
  const s = d.streams[0]!;
  s.write(line(ev('die', { name: 'web' })));
  s.write(line(ev('pause', { name: 'db' })));
  s.write(line(ev('start', { name: 'site_web_1', 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'site' })));
  s.write(line(ev('start', { name: 'other_web_1', 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'other' })));
  const split = line(ev('health_status: unhealthy', { name: 'web' }));
  s.write(split.slice(0, 10));
  s.write(split.slice(10));
  await settle();
  assert.deepEqual(
    seen.slice(1).map((e) => (e.type === 'container' ? `${e.action} ${e.name} ${e.health}` : 'docker')),
    ['die web null', 'start site_web_1 null', 'health_status web unhealthy'],
  );
  w.stop();
});

test('events: a broken stream reports Docker down once and re-subscribes with doubling backoff', async () => {
  const time = new FakeTime();
  const d = new FakeDocker();
  const seen: DockerWatchEvent[] = [];
  const w = watchDockerEvents(d, { name: 'web' }, (e) => seen.push(e), logger, { timers: time, minBackoffMs: 100, maxBackoffMs: 400 });
  await settle();
  assert.equal(w.up, true);
  d.down = sockError('ECONNREFUSED');
  d.streams[0]!.destroy(sockError('ECONNRESET'));
  await settle();
  assert.equal(w.up, false);
  assert.deepEqual(seen.at(-1), { type: 'docker', up: false, error: 'ECONNRESET' });
  const attempts = (): number => d.calls.filter((c) => c === 'events').length;
  assert.equal(attempts(), 1);
  await time.advance(100); // retry 1 fails
  await time.advance(200); // retry 2 fails
  await time.advance(400); // retry 3 fails
  await time.advance(399); // capped at 400: not yet
  assert.equal(attempts(), 4);
  assert.equal(seen.filter((e) => e.type === 'docker' && !e.up).length, 1, 'down is reported once, not per retry');
  d.down = null;
  await time.advance(1);
  assert.equal(attempts(), 5);
  assert.equal(w.up, true);
  assert.deepEqual(seen.at(-1), { type: 'docker', up: true });
  // a clean end (dockerd stopped) is a break too, and the backoff starts small again
  d.streams.at(-1)!.end();
  await settle();
  assert.equal(w.up, false);
  await time.advance(100);
  assert.equal(w.up, true);
  w.stop();
  assert.equal(time.timerCount, 0);
});

test('events: stop() while reconnecting cancels the retry', async () => {
  const time = new FakeTime();
  const d = new FakeDocker();
  d.down = sockError('ENOENT');
  const seen: DockerWatchEvent[] = [];
  const w = watchDockerEvents(d, { name: 'web' }, (e) => seen.push(e), logger, { timers: time });
  await settle();
  assert.deepEqual(seen, [{ type: 'docker', up: false, error: 'ENOENT' }]);
  w.stop();
  assert.equal(time.timerCount, 0);
  d.down = null;
  await time.advance(10_000);
  assert.equal(d.calls.filter((c) => c === 'events').length, 1);
});
