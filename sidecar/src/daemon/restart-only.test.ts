/** What a reload can only name for the next restart (restart-only.ts), on configurations as loaded. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { scratch } from '../../../test/support/scratch.js';
import { restartOnlyChanges } from './restart-only.js';

const files = await scratch();
after(() => files.remove());

const ETCD = 'election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 5s}\npaths: []\n';

async function config(yaml: string): Promise<Config> {
  const dir = await files.dir({ 'sidecar.yaml': `nodes: [alpha, {name: beta, priority: 1}]\ngroups: [{name: web, vips: ["10.77.0.100/24/eth0"]}]\nauth: {send_key: 1, keys: [{id: 1, secret: not-for-production}]}\n${yaml}` });
  const r = await loadConfig({ configPath: join(dir, 'sidecar.yaml'), env: {}, hostname: 'alpha', interfaces: null });
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems));
  return r.config;
}

test('changed etcd settings need a restart, and every later reload says so until they are taken back', async () => {
  const started = await config(ETCD);
  const longer = await config(ETCD.replace('lease_ttl: 5s', 'lease_ttl: 8s'));
  assert.deepEqual(restartOnlyChanges(started, longer), ['election (backend and etcd settings)']);
  // A second reload of the same file: judged against what the daemon started with, not the last reload.
  assert.deepEqual(restartOnlyChanges(started, await config(ETCD.replace('lease_ttl: 5s', 'lease_ttl: 8s'))), ['election (backend and etcd settings)']);
  assert.deepEqual(restartOnlyChanges(started, await config(ETCD)), [], 'taken back');
  const keep = await config(ETCD.replace('lease_ttl: 5s', 'lease_ttl: 5s, on_store_lost: keep'));
  assert.deepEqual(restartOnlyChanges(started, keep), ['election (backend and etcd settings)']);
});

test("with etcd a changed priority is the candidacy's, read at start; with heartbeats it applies in place", async () => {
  const etcd = await config(ETCD);
  const priority = (c: Config): Config => ({ ...c, nodes: c.nodes.map((n) => (n.name === 'alpha' ? { ...n, priority: 5 } : n)) });
  assert.deepEqual(restartOnlyChanges(etcd, priority(etcd)), ['etcd candidacy (groups, priorities, auto_failback)']);
  const heartbeat = await config('paths: [{bcast: {iface: eth0}}]\n');
  assert.deepEqual(restartOnlyChanges(heartbeat, priority(heartbeat)), []);
  assert.ok(restartOnlyChanges(heartbeat, etcd).includes('election (backend and etcd settings)'), 'a change of backend too');
});
