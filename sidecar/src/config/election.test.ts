/** election: etcd in the native YAML: its settings, defaults, and every mistake named with its fix. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatProblems } from './format.js';
import { loadConfig } from './load.js';
import type { ConfigProblem, LoadResult } from './load.js';
import { scratch } from '../../../test/support/scratch.js';

const files = await scratch();
after(() => files.remove());

const BASE = `
nodes: [alpha, beta, gamma]
groups: [{name: web, vips: ["10.77.0.100/24/eth0"]}]
auth: {send_key: 1, keys: [{id: 1, secret: not-for-production}]}
`;

async function load(yaml: string, env: Record<string, string> = {}): Promise<LoadResult> {
  const dir = await files.dir({ 'sidecar.yaml': yaml });
  return loadConfig({ configPath: join(dir, 'sidecar.yaml'), env, hostname: 'alpha', interfaces: ['lo', 'eth0'] });
}

function problems(r: LoadResult): readonly ConfigProblem[] {
  assert.equal(r.ok, false, 'expected the configuration to be refused');
  return r.ok ? [] : r.problems;
}

test('without election, the heartbeat election, and paths are required as before', async () => {
  const r = await load(`${BASE}paths: []\n`);
  assert.deepEqual(problems(r).map((p) => p.rule), ['no-path']);
});

test('election: etcd with endpoints: no heartbeat path needed; defaults: prefix, 5 s lease, release, no TLS; the VIP lease at most half the TTL', async () => {
  const r = await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379, "https://etcd-2.example:2379/"]}\npaths: []\n`);
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  assert.deepEqual(r.config.election, { backend: 'etcd', endpoints: ['http://10.77.0.14:2379', 'https://etcd-2.example:2379'], prefix: '/heartbeat-sidecar/', leaseTtlSec: 5, onStoreLost: 'release', tls: null });
  assert.equal(r.config.vipLeaseSec, 2);
  const short = await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 3s}\npaths: []\n`);
  assert.ok(short.ok);
  assert.equal(short.config.vipLeaseSec, 1);
});

test('HB_ variables set the election and its policy', async () => {
  const r = await load(`${BASE}etcd: {endpoints: [http://10.77.0.14:2379]}\npaths: []\n`, { HB_ELECTION: 'etcd', HB_ETCD_ON_STORE_LOST: 'keep', HB_ETCD_LEASE_TTL: '10s' });
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  assert.equal(r.config.election.backend, 'etcd');
  assert.ok(r.config.election.backend === 'etcd' && r.config.election.onStoreLost === 'keep' && r.config.election.leaseTtlSec === 10);
});

test('every mistake is named, with its fix', async () => {
  const p = problems(
    await load(`${BASE}election: etcd\netcd: {endpoints: [10.77.0.14:2379, "http://10.77.0.15:2379/v3"], lease_ttl: 1s, on_store_lost: hold, prefix: heartbeat, tls: {cert_file: /run/secrets/etcd.crt}}\npaths: []\n`),
  );
  const byKey = Object.fromEntries(p.map((x) => [x.key, x]));
  assert.match(byKey['etcd.endpoints[0]']!.message, /not an etcd client URL/);
  assert.match(byKey['etcd.endpoints[1]']!.message, /has a path or a query/);
  assert.match(byKey['etcd.lease_ttl']!.fix, /2 to 600/);
  assert.match(byKey['etcd.on_store_lost']!.fix, /release, keep/);
  assert.match(byKey['etcd.prefix']!.fix, /starting and ending with '\/'/);
  assert.equal(byKey['etcd.tls.cert_file']!.rule, 'etcd-tls-incomplete');
  assert.match(byKey['etcd.tls.cert_file']!.fix, /set etcd.tls.key_file/);
});

test('etcd without endpoints, and a VIP lease that would outlive the fence, are refused', async () => {
  const none = problems(await load(`${BASE}election: etcd\npaths: []\n`));
  assert.deepEqual(none.map((p) => [p.key, p.rule]), [['election', 'etcd-without-endpoints']]);
  const long = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 4s}\nvip_lease: 3\npaths: []\n`));
  assert.deepEqual(long.map((p) => [p.key, p.rule]), [['vip_lease', 'vip-lease-over-fence']]);
  assert.match(long[0]!.fix, /lower vip_lease to 2 s or less, or raise etcd.lease_ttl to 6 s/);
});
