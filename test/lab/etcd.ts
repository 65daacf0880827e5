/**
 * election: etcd in the lab (docs/etcd.md): a real etcd cluster, one member per lab host of its
 * own, and sidecars on other lab hosts electing through it. Debian's `etcd-server` (3.4) runs
 * each member inside its namespace like any lab process; its data lives in the lab's tmp dir and
 * goes with it.
 *
 * The members elect faster than etcd's defaults (heartbeat 50 ms, election timeout 500 ms), so
 * that a lost leader is replaced well within a sidecar's fence even at a short lease TTL, and
 * with pre-vote on (as etcd 3.5 has it by default).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { labUnavailable } from './guard.js';
import { createLab, waitFor, type Lab, type Prober } from './netns.js';
import { LAB_VIP, startSidecar, waitReady, type Sidecar } from './sidecar.js';

export const ETCD_CLIENT_PORT = 2379;
const ETCD_PEER_PORT = 2380;

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => fs.existsSync(path.join(dir, tool)));
}

/** Why the etcd lab cannot run here, or null when it can. */
export function etcdLabUnavailable(): string | null {
  return labUnavailable() ?? (onPath('etcd') ? null : 'no etcd on PATH: apt-get install -y etcd-server');
}

/** Like requireLab: skips on a developer machine without root or etcd, fails in CI. */
export function requireEtcdLab(t: TestContext): boolean {
  const reason = etcdLabUnavailable();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`etcd lab suite cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}

export interface EtcdLabOptions {
  /** Hosts running a sidecar (and a responder). */
  readonly sidecars: readonly string[];
  /** The group's preferred node; none by default, so a failover is one move. */
  readonly preferred?: string;
  /** The group's VIPs; LAB_VIP by default. */
  readonly vips?: readonly string[];
  /** Hosts running an etcd member. */
  readonly members: readonly string[];
  readonly leaseTtlSec: number;
  readonly onStoreLost?: 'release' | 'keep';
}

export interface EtcdLab {
  readonly lab: Lab;
  readonly prober: Prober;
  readonly sidecars: Map<string, Sidecar>;
  readonly members: Map<string, ChildProcess>;
  /** (Re)starts a host's sidecar with the lab's config. */
  start(host: string): Sidecar;
  /** (Re)starts an etcd member on its existing data (it rejoins the cluster). */
  startMember(host: string): ChildProcess;
  destroy(): Promise<void>;
}

const clientUrl = (lab: Lab, h: string) => `http://${lab.hosts[h]!.address}:${ETCD_CLIENT_PORT}`;

/** The sidecars' native YAML: no heartbeat path, one group `web` (LAB_VIP unless told). */
export function etcdYaml(lab: Lab, o: EtcdLabOptions): string {
  return [
    `nodes: [${o.sidecars.join(', ')}]`,
    'paths: []',
    'election: etcd',
    'etcd:',
    `  endpoints: [${o.members.map((m) => clientUrl(lab, m)).join(', ')}]`,
    `  lease_ttl: ${o.leaseTtlSec}s`,
    `  on_store_lost: ${o.onStoreLost ?? 'release'}`,
    'groups:',
    '  - name: web',
    ...(o.preferred === undefined ? [] : [`    preferred: ${o.preferred}`]),
    `    vips: [${(o.vips ?? [LAB_VIP]).map((v) => `"${v}/24/eth0"`).join(', ')}]`,
    'auth:',
    '  send_key: 1',
    '  keys: [{id: 1, method: sha256, secret: lab-secret-not-for-production}]',
    'api: {token_file: TOKEN_FILE}',
  ].join('\n');
}

/** An etcd cluster of one member per host, as it runs in the lab; `start` (re)starts one on its data. */
export interface EtcdMembers {
  readonly children: Map<string, ChildProcess>;
  start(host: string): ChildProcess;
}

/** Starts a member on each of `members` (lab hosts of their own) and waits until all are healthy. */
export async function startEtcdMembers(lab: Lab, members: readonly string[]): Promise<EtcdMembers> {
  const cluster = members.map((m) => `${m}=http://${lab.hosts[m]!.address}:${ETCD_PEER_PORT}`).join(',');
  const children = new Map<string, ChildProcess>();
  const start = (m: string): ChildProcess => {
    const a = lab.hosts[m]!.address;
    const child = lab.spawn(m, [
      'etcd',
      '--name', m,
      '--data-dir', path.join(lab.dir, 'etcd', m),
      '--listen-peer-urls', `http://${a}:${ETCD_PEER_PORT}`,
      '--initial-advertise-peer-urls', `http://${a}:${ETCD_PEER_PORT}`,
      '--listen-client-urls', `http://${a}:${ETCD_CLIENT_PORT}`,
      '--advertise-client-urls', `http://${a}:${ETCD_CLIENT_PORT}`,
      '--initial-cluster', cluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', lab.prefix,
      '--heartbeat-interval', '50',
      '--election-timeout', '500',
      // A member back from a partition must not depose the leader with the terms it ran up
      // alone (etcd 3.4 leaves pre-vote off): that costs every sidecar its renewals meanwhile.
      '--pre-vote',
      '--logger', 'zap',
    ]);
    children.set(m, child);
    return child;
  };
  for (const m of members) start(m);
  await waitFor(async () => (await Promise.all(members.map((m) => etcdHealthy(lab, m)))).every(Boolean), { what: 'every etcd member healthy', timeoutMs: 30_000 });
  return { children, start };
}

export async function startEtcdLab(name: string, o: EtcdLabOptions): Promise<EtcdLab> {
  const lab = await createLab({ hosts: [...o.sidecars, ...o.members], name });
  try {
    const etcd = await startEtcdMembers(lab, o.members);
    const token = path.join(lab.dir, 'admin-token');
    fs.writeFileSync(token, 'lab-admin-token\n', { mode: 0o600 });
    const config = path.join(lab.dir, 'sidecar.yaml');
    fs.writeFileSync(config, etcdYaml(lab, o).replace('TOKEN_FILE', token));
    const sidecars = new Map<string, Sidecar>();
    const start = (h: string): Sidecar => {
      const s = startSidecar(lab, h, ['--config', config]);
      sidecars.set(h, s);
      return s;
    };
    for (const h of o.sidecars) await lab.startResponder(h);
    for (const h of o.sidecars) start(h);
    await Promise.all(o.sidecars.map((h) => waitReady(lab, h)));
    const prober = await lab.startProber(`http://${LAB_VIP}:8080/`);
    return {
      lab,
      prober,
      sidecars,
      members: etcd.children,
      start,
      startMember: etcd.start,
      async destroy() {
        await prober.stop();
        await lab.destroy();
      },
    };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

/** etcd's own health endpoint, asked from inside the member's namespace (busybox wget: its -T crashes here). */
export async function etcdHealthy(lab: Lab, member: string): Promise<boolean> {
  const r = await lab.exec(member, ['busybox', 'wget', '-q', '-O', '-', `${clientUrl(lab, member)}/health`], { timeoutMs: 3000 });
  return r.code === 0 && r.stdout.includes('"health":"true"');
}

/** An admin action on a sidecar's API, with the lab's token, from inside its namespace. */
export async function adminPost(lab: Lab, host: string, route: string, body = '{}'): Promise<void> {
  const r = await lab.exec(host, ['busybox', 'wget', '-q', '-O', '-', '--header', 'Authorization: Bearer lab-admin-token', '--header', 'Content-Type: application/json', '--post-data', body, `http://127.0.0.1:9694${route}`], { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`POST ${route} on ${host} failed: ${r.stderr.trim()}`);
}

/** Cuts every pair across the two sides (each host on one side from each on the other). */
export async function split(lab: Lab, left: readonly string[], right: readonly string[]): Promise<void> {
  for (const a of left) for (const b of right) await lab.partition(a, b);
}
