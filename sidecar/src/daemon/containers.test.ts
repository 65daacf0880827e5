import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { ContainerSpec, GroupSpec } from '../domain/groups.js';
import { MISSING, type ApplyResult, type ContainerDriver, type ContainerStatus } from '../resources/docker.js';
import { createContainerResources } from './containers.js';

const logger = pino({ level: 'silent' });
const VIP = { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: null, family: 4 } as const;
const web: GroupSpec = { id: 'web', preferred: 'alpha', vips: [VIP], container: { name: 'nginx', onAcquire: 'unpause-or-start', onRelease: 'pause', project: null, stopTimeoutSec: 10 } };
const bare: GroupSpec = { id: 'bare', preferred: null, vips: [{ ...VIP, address: '10.77.0.101' }], container: null };
const RESULT: ApplyResult = { steps: [], before: MISSING, after: MISSING };

function fakeDriver(calls: string[], fail?: Error, status: ContainerStatus = 'missing'): ContainerDriver {
  const done = async (what: string): Promise<ApplyResult> => {
    calls.push(what);
    if (fail) throw fail;
    return RESULT;
  };
  return {
    acquire: () => done('acquire'),
    release: () => done('release'),
    reconcile: (holding) => done(`reconcile ${holding}`),
    inspect: async () => (status === 'missing' ? MISSING : { ...MISSING, exists: true, status }),
    probe: async () => null,
  };
}

test('a group with a container drives its driver; a group without one is a no-op', async () => {
  const calls: string[] = [];
  const made: ContainerSpec[] = [];
  const roles: string[] = [];
  const r = createContainerResources(
    [web, bare],
    (spec) => {
      made.push(spec);
      return fakeDriver(calls);
    },
    logger,
    { onRole: (g, role) => roles.push(`${g} ${role}`) },
  );
  assert.deepEqual(made, [web.container]);
  await r.acquire(web);
  await r.reconcile(web, true);
  await r.release(web);
  await r.reconcile(web, false);
  await r.acquire(bare);
  await r.release(bare);
  await r.reconcile(bare, true);
  assert.deepEqual(calls, ['acquire', 'reconcile true', 'release', 'reconcile false']);
  assert.deepEqual(roles, ['web transition', 'web holder', 'web holder', 'web transition', 'web standby', 'web standby']);
});

test('errors propagate, and the role still leaves transition', async () => {
  const boom = new Error('docker down');
  const roles: string[] = [];
  const r = createContainerResources([web], () => fakeDriver([], boom), logger, { onRole: (g, role) => roles.push(`${g} ${role}`) });
  await assert.rejects(r.acquire(web), boom);
  await assert.rejects(r.release(web), boom);
  await assert.rejects(r.reconcile(web, true), boom);
  assert.deepEqual(roles, ['web transition', 'web holder', 'web transition', 'web standby', 'web holder']);
});

test('no groups with containers: no drivers are made', async () => {
  let made = 0;
  const r = createContainerResources([bare], () => (made++, fakeDriver([])), logger);
  await r.acquire(bare);
  assert.equal(made, 0);
});

test('while this node is unhealthy, release and a standby reconcile leave the container running', async () => {
  const calls: string[] = [];
  let unfit = true;
  const r = createContainerResources([web], () => fakeDriver(calls), logger, { unfit: () => unfit });
  await r.acquire(web);
  await r.release(web);
  await r.reconcile(web, false);
  // a holder's container is still made to serve, unfit or not
  await r.reconcile(web, true);
  assert.deepEqual(calls, ['acquire', 'reconcile true']);
  unfit = false;
  await r.reconcile(web, false);
  await r.release(web);
  assert.deepEqual(calls, ['acquire', 'reconcile true', 'reconcile false', 'release']);
});

test('an unfit standby whose container is paused gets it unpaused, to see it recover', async () => {
  const calls: string[] = [];
  const r = createContainerResources([web], () => fakeDriver(calls, undefined, 'paused'), logger, { unfit: () => true });
  await r.reconcile(web, false);
  assert.deepEqual(calls, ['reconcile true']);
});
