import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { CommandResult, RunCommand } from '../resources/command.js';
import { DockerError, MISSING, type ContainerState, type ContainerStatus } from '../resources/docker.js';
import { HealthFreshness, judgeContainer } from './container.js';
import { FakeTime, settle } from '../../../test/support/fake-time.js';
import { Hysteresis } from './hysteresis.js';
import { createHealthMonitor, type HealthMonitorDeps } from './monitor.js';
import { httpSample, type FetchLike } from './probes.js';

const logger = pino({ level: 'silent' });

const state = (status: ContainerStatus, extra: Partial<ContainerState> = {}): ContainerState =>
  status === 'missing' ? MISSING : { exists: true, id: 'c0ffee', name: 'web', status, health: 'none', healthOutput: null, healthCheckedAt: null, healthcheck: null, exitCode: status === 'exited' ? 137 : null, oomKilled: false, ...extra };

const PAUSE = { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause' } as const;
const STOP = { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'stop' } as const;

// ---- hysteresis ------------------------------------------------------------------------------

test('hysteresis: the first sample decides; then fall bad or rise good in a row', () => {
  const h = new Hysteresis(2, 3);
  assert.equal(h.verdict, 'unknown');
  assert.equal(h.push(true), true);
  assert.equal(h.verdict, 'up');
  h.push(false);
  h.push(false);
  h.push(true); // streak broken
  h.push(false);
  h.push(false);
  assert.equal(h.verdict, 'up');
  assert.equal(h.push(false), true);
  assert.equal(h.verdict, 'down');
  h.push(true);
  assert.equal(h.verdict, 'down');
  h.push(true);
  assert.equal(h.verdict, 'up');
  assert.throws(() => new Hysteresis(0, 1), RangeError);
});

// ---- judging the container ---------------------------------------------------------------------

/** A judgement as one string: the reasons when it is evidence (empty: fit), `-` when it is none. */
const judged = (...args: Parameters<typeof judgeContainer>): string => {
  const j = judgeContainer(...args);
  return j.evidence ? j.reasons.join('; ') : '-';
};

test('container judgement depends on the role: only a running container is evidence; a holder must run', () => {
  const table: Array<[ContainerState, 'holder' | 'standby', typeof PAUSE | typeof STOP, boolean, string]> = [
    [state('running'), 'holder', PAUSE, false, ''],
    [state('running', { health: 'healthy' }), 'holder', PAUSE, false, ''],
    [state('running', { health: 'starting' }), 'holder', PAUSE, false, '-'],
    [state('running', { health: 'unhealthy', healthOutput: 'HTTP 502' }), 'holder', PAUSE, false, 'container web unhealthy: HTTP 502'],
    // Docker's verdict from before a pause says nothing about the container now
    [state('running', { health: 'unhealthy' }), 'holder', PAUSE, true, '-'],
    [state('running', { health: 'healthy' }), 'standby', PAUSE, true, '-'],
    // without a HEALTHCHECK, running is all there is to know
    [state('running'), 'holder', PAUSE, true, ''],
    [state('paused'), 'holder', PAUSE, false, 'container web paused'],
    [state('paused'), 'standby', PAUSE, false, '-'],
    // Docker marks a paused container's HEALTHCHECK unhealthy: not our standby's fault, and not proof of health either
    [state('paused', { health: 'unhealthy' }), 'standby', PAUSE, false, '-'],
    [state('running', { health: 'unhealthy' }), 'standby', PAUSE, false, 'container web unhealthy'],
    [state('running', { health: 'healthy' }), 'standby', PAUSE, false, ''],
    [state('exited'), 'holder', PAUSE, false, 'container web exited, exit code 137'],
    [state('exited'), 'standby', PAUSE, false, 'container web exited, exit code 137'],
    [state('exited'), 'standby', STOP, false, '-'],
    [state('exited', { oomKilled: true }), 'holder', STOP, false, 'container web exited, out of memory'],
    [state('created'), 'standby', STOP, false, '-'],
    [state('restarting'), 'standby', STOP, false, 'container web restarting'],
    [state('dead'), 'standby', PAUSE, false, 'container web dead'],
    [MISSING, 'standby', PAUSE, false, 'container web missing'],
  ];
  for (const [s, role, policy, stale, want] of table) {
    assert.equal(judged(s, role, policy, stale), want, `${s.status}/${s.health}${stale ? ' (stale)' : ''} as ${role} (release ${policy.onRelease})`);
  }
  // a cold standby only when acquire can start it
  assert.equal(judged(state('exited'), 'standby', { ...STOP, onAcquire: 'unpause' }), 'container web exited, exit code 137');
  assert.equal(judged(state('exited'), 'transition', PAUSE), '-');
});

test('health freshness: a verdict carried over a pause is stale until Docker ends another probe', () => {
  const f = new HealthFreshness();
  assert.equal(f.observe(state('running', { health: 'healthy', healthCheckedAt: 't1' })), false);
  assert.equal(f.observe(state('paused', { health: 'unhealthy', healthCheckedAt: 't2' })), true);
  assert.equal(f.observe(state('running', { health: 'unhealthy', healthCheckedAt: 't2' })), true, 'unpaused, no probe since');
  assert.equal(f.observe(state('running', { health: 'healthy', healthCheckedAt: 't3' })), false, 'a fresh probe');
  assert.equal(f.observe(state('running', { health: 'unhealthy', healthCheckedAt: 't4' })), false);
  // a probe that failed on the paused container after the last look is stale too
  assert.equal(f.observe(state('paused', { health: 'healthy', healthCheckedAt: 't4' })), true);
  assert.equal(f.observe(state('running', { health: 'unhealthy', healthCheckedAt: 't4b' })), true, 'first look after the unpause');
  assert.equal(f.observe(state('running', { health: 'healthy', healthCheckedAt: 't4c' })), false);
  // paused before any probe ran: the first probe after the unpause is the fresh one
  assert.equal(f.observe(state('paused', { health: 'starting' })), true);
  assert.equal(f.observe(state('running', { health: 'starting' })), true);
  assert.equal(f.observe(state('running', { health: 'healthy', healthCheckedAt: 't5' })), false);
  // a start resets Docker's health, so a stopped container ends the staleness
  f.observe(state('paused', { health: 'unhealthy', healthCheckedAt: 't6' }));
  f.observe(state('exited'));
  assert.equal(f.observe(state('running', { health: 'unhealthy', healthCheckedAt: 't6' })), false);
});

// ---- the monitor -----------------------------------------------------------------------------

interface Rig {
  time: FakeTime;
  changes: Array<[boolean, string]>;
  docker: Array<[boolean, string | null]>;
  container: { state: ContainerState | Error; inspections: number; hang: boolean; probes: boolean[] };
  monitor: ReturnType<typeof createHealthMonitor>;
  /** Our own HEALTHCHECK runs, in order. */
  probed: string[];
}

function rig(over: Partial<HealthMonitorDeps> & { withContainer?: boolean; unhealthyWhenDockerDown?: boolean; policy?: typeof PAUSE | typeof STOP } = {}): Rig {
  const time = new FakeTime();
  const changes: Array<[boolean, string]> = [];
  const docker: Array<[boolean, string | null]> = [];
  // `probes`: the outcomes our own runs of its HEALTHCHECK give, in order (then ok)
  const container: Rig['container'] = { state: state('running'), inspections: 0, hang: false, probes: [] };
  const probed: string[] = [];
  const pending: Array<() => void> = [];
  const monitor = createHealthMonitor({
    container:
      over.withContainer === false
        ? null
        : {
            spec: { policy: over.policy ?? PAUSE, intervalMs: 2000, rise: 1, fall: 1, unhealthyWhenDockerDown: over.unhealthyWhenDockerDown ?? false },
            inspect: async () => {
              container.inspections++;
              if (container.hang) await new Promise<void>((r) => pending.push(r));
              if (container.state instanceof Error) throw container.state;
              return container.state;
            },
            probe: async () => {
              const ok = container.probes.shift() ?? true;
              probed.push(ok ? 'ok' : 'fail');
              return { ok, output: ok ? '' : 'HTTP 503' };
            },
          },
    clock: time,
    timers: time,
    logger,
    onChange: (healthy, reasons) => changes.push([healthy, reasons.join('; ')]),
    onDocker: (up, error) => docker.push([up, error]),
    ...over,
  });
  return { time, changes, docker, container, monitor, probed };
}

test('a missing container makes the node unhealthy at start; it recovers when the container appears', async () => {
  const r = rig();
  r.container.state = MISSING;
  r.monitor.start();
  await settle();
  assert.deepEqual(r.changes, [[false, 'container web missing']]);
  assert.deepEqual(r.docker, [[true, null]]);
  // a paused container shows nothing: the verdict stands until it is seen running
  r.container.state = state('paused');
  await r.time.advance(2000);
  assert.equal(r.changes.length, 1);
  assert.match(r.monitor.snapshot().sources[0]!.waiting ?? '', /paused on a standby/);
  r.container.state = state('running');
  await r.time.advance(2000);
  assert.deepEqual(r.changes.at(-1), [true, '']);
  r.monitor.stop();
  assert.equal(r.time.timerCount, 0);
});

test('a healthy start reports nothing: the engine already assumes healthy', async () => {
  const r = rig();
  r.monitor.start();
  await r.time.advance(10_000);
  assert.deepEqual(r.changes, []);
  assert.equal(r.container.inspections, 6);
  assert.equal(r.monitor.snapshot().healthy, true);
});

/**
 * The monitor's half of the health decision, with memory: each row is a story of what Docker
 * showed, one inspect every 2 s, and the verdict the node ends with. The engine's half (who holds
 * given each node's verdict) is in engine/engine.test.ts.
 */
test('health decision table: unfit stays unfit until seen healthy; stale and paused are no evidence', async () => {
  const unhealthy = (at: string) => state('running', { health: 'unhealthy', healthCheckedAt: at });
  const healthy = (at: string) => state('running', { health: 'healthy', healthCheckedAt: at });
  const paused = (at: string, health: 'healthy' | 'unhealthy' = 'unhealthy') => state('paused', { health, healthCheckedAt: at });
  // an acquire: role transition, the container unpaused, then holder
  type Step = ContainerState | 'holder' | 'standby' | 'transition';
  const table: Array<[story: string, steps: Step[], healthy: boolean, changes: number]> = [
    ['holder, healthy', ['holder', healthy('t1'), healthy('t2')], true, 0],
    ['holder turns unhealthy', ['holder', healthy('t1'), unhealthy('t2')], false, 1],
    ['released for it and paused: still unfit', ['holder', unhealthy('t1'), 'standby', paused('t1'), paused('t1')], false, 1],
    ['unpaused: its old verdict is not evidence', ['holder', unhealthy('t1'), 'standby', paused('t1', 'healthy'), healthy('t1')], false, 1],
    ['left running and seen healthy: fit again', ['holder', unhealthy('t1'), 'standby', unhealthy('t2'), healthy('t3')], true, 2],
    ['standby paused from the start: fit', ['standby', paused('t0'), paused('t0')], true, 0],
    ['standby takes over, stale unhealthy verdict: fit until a fresh probe', ['standby', paused('t0'), 'transition', unhealthy('t0'), 'holder', unhealthy('t0')], true, 0],
    ['standby takes over, the fresh probe is healthy', ['standby', paused('t0'), 'transition', unhealthy('t0'), 'holder', unhealthy('t0'), healthy('t1')], true, 0],
    ['standby takes over, the fresh probe fails too', ['standby', paused('t0'), 'transition', unhealthy('t0'), 'holder', unhealthy('t0'), unhealthy('t1')], false, 1],
    ['standby running and unhealthy: unfit', ['standby', unhealthy('t1')], false, 1],
  ];
  for (const [story, steps, want, changes] of table) {
    const r = rig();
    r.container.state = healthy('t0');
    r.monitor.start();
    await settle();
    for (const step of steps) {
      if (typeof step === 'string') r.monitor.setRole(step);
      else {
        r.container.state = step;
        await r.time.advance(2000);
      }
      await settle();
    }
    assert.equal(r.monitor.snapshot().healthy, want, story);
    assert.equal(r.changes.length, changes, `${story}: ${JSON.stringify(r.changes)}`);
    r.monitor.stop();
  }
});

const HEALTHCHECK = { command: ['/bin/sh', '-c', 'check'], intervalMs: 5000, timeoutMs: 1000, retries: 2 } as const;

test('a standby that takes over with a stale verdict is judged by its own HEALTHCHECK, run at once', async () => {
  const r = rig();
  r.container.state = state('paused', { health: 'unhealthy', healthCheckedAt: 't0', healthcheck: HEALTHCHECK });
  r.monitor.start();
  await settle();
  r.monitor.setRole('transition');
  r.container.state = state('running', { health: 'unhealthy', healthCheckedAt: 't0', healthcheck: HEALTHCHECK });
  await settle();
  r.monitor.setRole('holder');
  await settle();
  assert.deepEqual(r.probed, ['ok'], 'probed at once after the takeover');
  assert.deepEqual(r.changes, []);
  // Docker still has not probed; ours fail twice (retries 2), one interval apart
  r.container.probes.push(false, false);
  await r.time.advance(2000);
  assert.deepEqual(r.probed, ['ok'], 'not again before its interval');
  await r.time.advance(4000);
  assert.deepEqual(r.probed, ['ok', 'fail']);
  assert.deepEqual(r.changes, [], 'one failure is not yet unhealthy');
  await r.time.advance(6000);
  assert.deepEqual(r.probed, ['ok', 'fail', 'fail']);
  assert.equal(r.changes.length, 1);
  assert.match(r.changes[0]![1], /container web unhealthy \(its HEALTHCHECK, run by heartbeat-sidecar, failed 2 times\): HTTP 503/);
  // Docker's own fresh verdict takes over again
  r.container.state = state('running', { health: 'healthy', healthCheckedAt: 't1', healthcheck: HEALTHCHECK });
  await r.time.advance(2000);
  assert.deepEqual(r.changes.at(-1), [true, '']);
  r.monitor.stop();
});

test('a HEALTHCHECK Docker stopped running (live-restore before Docker 23) is run by the sidecar', async () => {
  const r = rig();
  r.monitor.setRole('holder');
  r.container.state = state('running', { health: 'healthy', healthCheckedAt: 't1', healthcheck: HEALTHCHECK });
  r.monitor.start();
  await r.time.advance(6000);
  assert.deepEqual(r.probed, [], 'Docker renews its verdict within interval + timeout: nothing to do');
  // the verdict is never renewed again
  r.container.probes.push(false, false);
  await r.time.advance(4000);
  assert.deepEqual(r.probed, ['fail'], 'overdue after interval + timeout + one inspect period');
  assert.match(r.monitor.snapshot().sources[0]!.waiting ?? '', /Docker has not run the HEALTHCHECK of web for over 6 s/);
  await r.time.advance(6000);
  assert.deepEqual(r.probed, ['fail', 'fail']);
  assert.equal(r.monitor.snapshot().healthy, false);
  r.monitor.stop();
});

test('while Docker says starting, our own successful probe is evidence of health; a failure is not yet', async () => {
  const r = rig();
  r.container.state = MISSING;
  r.monitor.start();
  await settle();
  assert.equal(r.monitor.snapshot().healthy, false);
  r.container.probes.push(false);
  r.container.state = state('running', { health: 'starting', healthcheck: HEALTHCHECK });
  await r.time.advance(2000);
  assert.deepEqual(r.probed, ['fail']);
  assert.equal(r.monitor.snapshot().healthy, false, 'a failure while starting counts for nothing');
  await r.time.advance(6000);
  assert.deepEqual(r.probed, ['fail', 'ok']);
  assert.equal(r.monitor.snapshot().healthy, true, 'recovered without waiting for Docker\'s first probe');
  r.monitor.stop();
});

test('a Docker event is inspected at once, without waiting for the poll', async () => {
  const r = rig();
  r.monitor.setRole('holder');
  r.monitor.start();
  await settle();
  r.container.state = state('exited');
  r.monitor.dockerEvent({ type: 'container', action: 'die', id: 'c0ffee', name: 'web', health: null });
  await settle();
  assert.deepEqual(r.changes, [[false, 'container web exited, exit code 137']]);
  assert.equal(r.time.now(), 0);
});

test('events during an inspect ask for exactly one more', async () => {
  const r = rig();
  r.monitor.start();
  await settle();
  const before = r.container.inspections;
  r.container.hang = true;
  r.monitor.dockerEvent({ type: 'container', action: 'pause', id: 'c0ffee', name: 'web', health: null });
  for (let i = 0; i < 5; i++) r.monitor.dockerEvent({ type: 'container', action: 'unpause', id: 'c0ffee', name: 'web', health: null });
  await settle();
  assert.equal(r.container.inspections, before + 1);
});

test('a stale inspect from before a role change is not judged under the new role', async () => {
  const r = rig();
  r.container.state = state('paused');
  r.monitor.start();
  await settle();
  assert.deepEqual(r.changes, []); // paused standby: fine
  r.monitor.setRole('transition');
  await settle();
  // the acquire unpauses, then the runtime says we hold
  r.container.state = state('running');
  r.monitor.setRole('holder');
  await settle();
  assert.deepEqual(r.changes, [], 'a holder whose container was paused a moment ago is not unhealthy');
  // someone pauses it behind our back while we hold
  r.container.state = state('paused');
  r.monitor.dockerEvent({ type: 'container', action: 'pause', id: 'c0ffee', name: 'web', health: null });
  await settle();
  assert.deepEqual(r.changes, [[false, 'container web paused']]);
});

test('Docker unreachable: reported, and by default not unhealthy (the container may still serve)', async () => {
  const r = rig();
  r.monitor.setRole('holder');
  r.monitor.start();
  await settle();
  r.container.state = new DockerError('HB_DOCKER_UNAVAILABLE', 'inspect: ECONNREFUSED', 'web');
  r.monitor.dockerEvent({ type: 'docker', up: false, error: 'ECONNRESET' });
  await r.time.advance(2000);
  assert.deepEqual(r.changes, []);
  assert.equal(r.docker.at(-1)![0], false);
  const snap = r.monitor.snapshot();
  assert.equal(snap.docker.up, false);
  assert.equal(snap.docker.since, 0);
  r.container.state = state('running');
  r.monitor.dockerEvent({ type: 'docker', up: true });
  await settle();
  assert.deepEqual(r.docker.map((d) => d[0]), [true, false, true]);
});

test('Docker unreachable counts as unhealthy when configured so', async () => {
  const r = rig({ unhealthyWhenDockerDown: true });
  r.monitor.setRole('holder');
  r.monitor.start();
  await settle();
  r.container.state = new DockerError('HB_DOCKER_UNAVAILABLE', 'inspect: ECONNREFUSED', 'web');
  await r.time.advance(2000);
  assert.deepEqual(r.changes, [[false, 'docker unreachable: Docker is unreachable: inspect: ECONNREFUSED']]);
});

test('an ambiguous container name is unhealthy: Docker answered, and we cannot tell which to serve', async () => {
  const r = rig();
  r.container.state = new DockerError('HB_CONTAINER_AMBIGUOUS', 'service web matches a_web_1, b_web_1', 'web');
  r.monitor.start();
  await settle();
  assert.equal(r.changes.length, 1);
  assert.match(r.changes[0]![1], /several containers match/);
});

// ---- http --------------------------------------------------------------------------------------

/** A fetch whose answers the test sets: a status, 'hang' (never answers) or 'refused'. */
interface FakeFetch {
  fetch: FetchLike;
  answer: number | 'hang' | 'refused';
  calls: number;
}

function fakeFetch(): FakeFetch {
  const f: FakeFetch = { answer: 200, calls: 0, fetch: async () => ({ status: 0, body: null }) };
  f.fetch = async (_url, init) => {
    f.calls++;
    const a = f.answer;
    if (a === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    if (a === 'hang') {
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    }
    return { status: a, body: { cancel: async () => {} } };
  };
  return f;
}

const HTTP = { url: 'http://127.0.0.1:8080/healthz', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 };

test('http sample: 2xx and 3xx are up; other statuses, refusals and timeouts are down, with the reason', async () => {
  const time = new FakeTime();
  const f = fakeFetch();
  for (const [answer, ok] of [[200, true], [302, true], [404, false], [503, false]] as const) {
    f.answer = answer;
    assert.equal((await httpSample(HTTP, f.fetch, time)).ok, ok, String(answer));
  }
  f.answer = 'refused';
  assert.deepEqual(await httpSample(HTTP, f.fetch, time), { ok: false, reason: 'http http://127.0.0.1:8080/healthz failed: ECONNREFUSED' });
  f.answer = 'hang';
  const p = httpSample(HTTP, f.fetch, time);
  await time.advance(500);
  assert.deepEqual(await p, { ok: false, reason: 'http http://127.0.0.1:8080/healthz timed out after 500 ms' });
  assert.equal(time.timerCount, 0);
});

test('http check: fall bad samples make the holder unhealthy, rise good ones bring it back', async () => {
  const f = fakeFetch();
  const r = rig({ http: HTTP, fetch: f.fetch });
  r.monitor.setRole('holder');
  r.monitor.start();
  await r.time.advance(1000);
  assert.equal(f.calls, 1);
  f.answer = 503;
  await r.time.advance(2000);
  assert.deepEqual(r.changes, []);
  await r.time.advance(1000);
  assert.deepEqual(r.changes, [[false, 'http http://127.0.0.1:8080/healthz answered 503']]);
  f.answer = 200;
  await r.time.advance(1000);
  assert.equal(r.changes.length, 1);
  await r.time.advance(1000);
  assert.deepEqual(r.changes.at(-1), [true, '']);
});

test('http check: no samples while the container is paused; a failure earned while holding sticks until its timeout', async () => {
  const f = fakeFetch();
  const r = rig({ http: { ...HTTP, fall: 1 }, fetch: f.fetch, failureTimeoutMs: 30_000 });
  r.monitor.setRole('holder');
  r.monitor.start();
  await settle();
  f.answer = 500;
  await r.time.advance(1000);
  assert.deepEqual(r.changes, [[false, 'http http://127.0.0.1:8080/healthz answered 500']]);
  // the engine hands over: release pauses the container
  r.monitor.setRole('transition');
  r.container.state = state('paused');
  r.monitor.setRole('standby');
  await r.time.advance(2000);
  const calls = f.calls;
  await r.time.advance(20_000);
  assert.equal(f.calls, calls, 'a paused container is not probed');
  assert.equal(r.monitor.snapshot().healthy, false, 'still ineligible: it failed and cannot prove otherwise');
  await r.time.advance(10_000);
  assert.deepEqual(r.changes.at(-1), [true, ''], 'forgotten after the failure timeout');
  assert.equal(r.monitor.snapshot().sources.find((s) => s.source === 'http')!.verdict, 'unknown');
});

test('http check with no container configured runs whatever the role', async () => {
  const f = fakeFetch();
  const r = rig({ withContainer: false, http: HTTP, fetch: f.fetch });
  r.monitor.start();
  await r.time.advance(3000);
  assert.equal(f.calls, 3);
});

// ---- ping --------------------------------------------------------------------------------------

function fakePing(answering: Set<string>): { run: RunCommand; calls: string[] } {
  const calls: string[] = [];
  const run: RunCommand = async (file, args) => {
    calls.push(`${file} ${args.join(' ')}`);
    const host = args.at(-1)!;
    const r: CommandResult = answering.has(host) ? { code: 0, stdout: '', stderr: '' } : { code: 1, stdout: '', stderr: '' };
    return r;
  };
  return { run, calls };
}

test('ping nodes: reachable while any answers; ineligible after fall rounds with none', async () => {
  const answering = new Set(['10.77.0.1', '10.77.0.254']);
  const p = fakePing(answering);
  const r = rig({ withContainer: false, ping: { nodes: ['10.77.0.1', '10.77.0.254'], intervalMs: 1000, rise: 1, fall: 2 }, run: p.run });
  r.monitor.start();
  await settle();
  assert.deepEqual(p.calls, ['ping -c1 -W1 -n 10.77.0.1'], 'the first node at once');
  await r.time.advance(500);
  assert.deepEqual(p.calls, ['ping -c1 -W1 -n 10.77.0.1', 'ping -c1 -W1 -n 10.77.0.254'], 'the second half an interval later');
  answering.delete('10.77.0.1');
  await r.time.advance(500);
  await r.time.advance(1000);
  assert.deepEqual(r.changes, []);
  answering.clear();
  await r.time.advance(1000);
  assert.deepEqual(r.changes, []);
  await r.time.advance(1000);
  assert.deepEqual(r.changes, [[false, 'ping: no ping node answers (10.77.0.1, 10.77.0.254)']]);
  answering.add('10.77.0.254');
  await r.time.advance(1000);
  assert.deepEqual(r.changes.at(-1), [true, '']);
});

test('ping nodes are spread over the interval: a long list never spawns its pings at once', async () => {
  const nodes = Array.from({ length: 16 }, (_, i) => `10.77.1.${i + 1}`);
  const p = fakePing(new Set(nodes));
  const r = rig({ withContainer: false, ping: { nodes, intervalMs: 1600, rise: 1, fall: 1 }, run: p.run });
  r.monitor.start();
  await settle();
  const perStep: number[] = [];
  for (let i = 0; i < 16; i++) {
    const before = p.calls.length;
    await r.time.advance(100);
    perStep.push(p.calls.length - before);
  }
  assert.deepEqual(perStep, Array(16).fill(1), 'one ping every 100 ms');
  assert.deepEqual(p.calls.slice(0, 16).map((c) => c.split(' ').at(-1)), nodes, 'every node once a round');
  r.monitor.stop();
});

test('ping nodes that never answer hold at most 4 command slots, and count as silent', async () => {
  const nodes = Array.from({ length: 16 }, (_, i) => `10.77.1.${i + 1}`);
  let started = 0;
  const run: RunCommand = () => (started++, new Promise<CommandResult>(() => {}));
  const r = rig({ withContainer: false, ping: { nodes, intervalMs: 1600, rise: 1, fall: 1 }, run });
  r.monitor.start();
  await r.time.advance(1600 * 3);
  assert.equal(started, 4);
  r.monitor.stop();
});

test('reasons of every failing source are reported together', async () => {
  const p = fakePing(new Set());
  const r = rig({ ping: { nodes: ['10.77.0.1'], intervalMs: 1000, rise: 1, fall: 1 }, run: p.run });
  r.container.state = state('dead');
  r.monitor.start();
  await settle();
  assert.deepEqual(r.changes.at(-1), [false, 'container web dead; ping: no ping node answers (10.77.0.1)']);
  const snap = r.monitor.snapshot();
  assert.deepEqual(snap.sources.map((s) => `${s.source}:${s.verdict}`), ['container:down', 'ping:down']);
  assert.equal(snap.container?.status, 'dead');
});

test('ping nodes without a RunCommand is a programming error, found at construction', () => {
  const time = new FakeTime();
  assert.throws(() => createHealthMonitor({ ping: { nodes: ['10.0.0.1'], intervalMs: 1000, rise: 1, fall: 1 }, clock: time, timers: time, logger, onChange: () => {} }), /RunCommand/);
});
