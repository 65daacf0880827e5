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

test('election: etcd with endpoints: no heartbeat path needed; defaults: prefix, 5 s lease, release, no TLS; the VIP lease at most half the TTL less the kernel second', async () => {
  const r = await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379, "https://etcd-2.example:2379/"]}\npaths: []\n`);
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  assert.deepEqual(r.config.election, { backend: 'etcd', endpoints: ['http://10.77.0.14:2379', 'https://etcd-2.example:2379'], prefix: '/heartbeat-sidecar/', leaseTtlSec: 5, onStoreLost: 'release', tls: null });
  assert.equal(r.config.vipLeaseSec, 1, '2.5 s to the fence at worst, less 1 s for the kernel');
  const longer = await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 6s}\npaths: []\n`);
  assert.ok(longer.ok);
  assert.equal(longer.config.vipLeaseSec, 2);
});

test('a lease TTL that leaves a VIP no whole second before the fence is refused, naming etcd.lease_ttl and the minimum', async () => {
  const p = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 3s}\npaths: []\n`));
  assert.deepEqual(p.map((x) => [x.key, x.rule]), [['etcd.lease_ttl', 'invalid-value']]);
  assert.match(formatProblems(p), /etcd\.lease_ttl: 3 s is shorter than 4 s, the least that leaves a VIP a whole second/);
  assert.match(p[0]!.fix, /raise etcd.lease_ttl to 4s or more/);
  const env = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379]}\npaths: []\n`, { HB_ETCD_LEASE_TTL: '2s' }));
  assert.match(env[0]!.message, /etcd\.lease_ttl: 2 s is shorter than 4 s/);
  assert.ok((await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 4s}\npaths: []\n`)).ok);
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
  assert.match(byKey['etcd.lease_ttl']!.fix, /raise etcd.lease_ttl to 4s or more/);
  assert.match(byKey['etcd.on_store_lost']!.fix, /release, keep/);
  assert.match(byKey['etcd.prefix']!.fix, /starting and ending with '\/'/);
  const certFile = p.filter((x) => x.key === 'etcd.tls.cert_file');
  assert.deepEqual(certFile.map((x) => x.rule), ['etcd-tls-incomplete', 'file-unreadable']);
  assert.match(certFile[0]!.fix, /set etcd.tls.key_file/);
  assert.match(certFile[1]!.message, /does not exist: \/run\/secrets\/etcd.crt/);
});

test('etcd without endpoints, and a VIP lease that would outlive the fence, are refused', async () => {
  const none = problems(await load(`${BASE}election: etcd\npaths: []\n`));
  assert.deepEqual(none.map((p) => [p.key, p.rule]), [['election', 'etcd-without-endpoints']]);
  const long = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [http://10.77.0.14:2379], lease_ttl: 4s}\nvip_lease: 2\npaths: []\n`));
  assert.deepEqual(long.map((p) => [p.key, p.rule]), [['vip_lease', 'vip-lease-over-fence']]);
  assert.match(long[0]!.fix, /lower vip_lease to 1 s or less, or raise etcd.lease_ttl to 6 s/);
});

test('TLS files with an http:// endpoint are refused: they would go unused', async () => {
  const dir = await files.dir({ 'ca.pem': 'PEM' });
  const p = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [https://10.77.0.14:2379, http://10.77.0.15:2379], tls: {ca_file: ${join(dir, 'ca.pem')}}}\npaths: []\n`));
  assert.deepEqual(p.map((x) => [x.key, x.rule]), [['etcd.endpoints[1]', 'etcd-tls-over-http']]);
  assert.match(p[0]!.fix, /write https:\/\/10.77.0.15:2379, or remove etcd.tls/);
  const ok = await load(`${BASE}election: etcd\netcd: {endpoints: [https://10.77.0.14:2379], tls: {ca_file: ${join(dir, 'ca.pem')}}}\npaths: []\n`);
  assert.ok(ok.ok, ok.ok ? '' : formatProblems(ok.problems));
  assert.deepEqual(ok.config.election.backend === 'etcd' && ok.config.election.tls, { caFile: join(dir, 'ca.pem'), certFile: null, keyFile: null });
});

test('a missing or unreadable TLS file is named with its key, its path and the fix, together with every other problem', async () => {
  const dir = await files.dir({ 'client.pem': 'PEM', 'client-key.pem': 'KEY' });
  const missing = join(dir, 'ca.pem');
  const yaml = `${BASE}election: etcd\netcd: {endpoints: [https://10.77.0.14:2379], on_store_lost: hold, tls: {ca_file: ${missing}, cert_file: ${join(dir, 'client.pem')}, key_file: ${dir}}}\npaths: []\n`;
  const p = problems(await load(yaml));
  const text = formatProblems(p);
  assert.deepEqual(p.map((x) => [x.key, x.rule]), [['etcd.on_store_lost', 'invalid-value'], ['etcd.tls.ca_file', 'file-unreadable'], ['etcd.tls.key_file', 'file-unreadable']], text);
  assert.match(text, new RegExp(`sidecar\\.yaml:\\d+: the file named by etcd\\.tls\\.ca_file does not exist: ${missing} — fix: create ${missing} or correct the path`));
  assert.match(text, /the file named by etcd\.tls\.key_file is not a regular file \(a directory\)/);
  const env = problems(await load(`${BASE}election: etcd\netcd: {endpoints: [https://10.77.0.14:2379]}\npaths: []\n`, { HB_ETCD_TLS_CA_FILE: missing }));
  assert.match(formatProblems(env), new RegExp(`^HB_ETCD_TLS_CA_FILE: the file named by HB_ETCD_TLS_CA_FILE does not exist: ${missing}`));
  assert.ok((await load(`${BASE}etcd: {tls: {ca_file: ${missing}}}\npaths: [{bcast: {iface: eth0}}]\n`)).ok, 'the heartbeat election reads no TLS file');
});
