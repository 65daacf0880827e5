/**
 * What the compose e2e suites share: two lab hosts, each with its own Docker engine (live-restore,
 * its socket held across dockerd restarts as systemd's docker.socket holds it), a shipped compose
 * example copied per host with only addresses, images and the socket substituted, and a client
 * that probes the VIP all along and reads each sidecar's API as Prometheus or an operator would.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { firstAnswerFrom, longestGap } from '../lab/analysis.js';
import { buildImages, dockerLabUnavailable, startEngine, sweepStaleEngines, type DockerEngine } from '../lab/docker.js';
import { createLab, sweepStale, type Lab, type Prober } from '../lab/netns.js';
import { API_PORT, LAB_VIP, REPO } from '../lab/sidecar.js';

export const HOSTS = ['a', 'b'] as const;
export type Host = (typeof HOSTS)[number];
export const other = (h: Host): Host => (h === 'a' ? 'b' : 'a');

export interface ComposePair {
  readonly lab: Lab;
  readonly engines: Record<Host, DockerEngine>;
  readonly projects: Record<Host, string>;
  readonly prober: Prober;
  /** Lines of measured figures, printed when the suite ends. */
  readonly figures: string[];
  compose(host: Host, args: string[]): ReturnType<DockerEngine['compose']>;
  /** GET on a sidecar's API from the client namespace. */
  api(host: Host, route: string): Promise<string>;
  status(host: Host): Promise<SidecarStatus>;
  /** Docker's state of a container on a host (running, paused, exited...). */
  containerState(host: Host, container: string): Promise<string>;
  /** The id of a Compose service's container on a host. */
  containerOf(host: Host, service: string): Promise<string>;
  /** How many times each host's sidecar (of `hosts`, default both) took a group: its transitions to `held`. */
  takes(hosts?: readonly Host[]): Promise<Partial<Record<Host, number>>>;
  /** The client-seen gap of a move that started at `from`, until `to` first answers; printed. */
  moveGap(label: string, from: number, to: Host, timeoutMs: number): Promise<number>;
  note(line: string): void;
  destroy(): Promise<void>;
}

export interface SidecarStatus {
  node: string;
  healthy: boolean;
  healthReasons: string[];
  groups: Array<{ holder: string | null; localClaim: string }>;
  containers: Array<{ name: string; dockerUp: boolean | null; state: string | null; health: string | null; healthWaiting: string | null }>;
}

/** Whether this machine can run the Docker lab at all (the caller's guard reports why not). */
export const composeLabPossible = (): boolean => dockerLabUnavailable() === null && process.getuid?.() === 0;

/**
 * Builds the images, the lab and the engines, copies `compose/<example>` for each host and lets
 * `prepare` substitute what a user would (addresses, images); then `docker-compose up -d` on both.
 */
export async function startComposePair(example: string, name: string, prepare: (dir: string, host: Host, lab: Lab, engine: DockerEngine) => void, probeMs = 20): Promise<ComposePair> {
  sweepStaleEngines();
  await sweepStale();
  const images = await buildImages();
  const lab = await createLab({ hosts: [...HOSTS], name });
  // containers' own users (nginx's www-data) read files under the lab's 0700 directory
  fs.chmodSync(lab.dir, 0o755);
  const engines = {} as Record<Host, DockerEngine>;
  const projects = {} as Record<Host, string>;
  const figures: string[] = [];
  for (const h of HOSTS) engines[h] = await startEngine(lab, h, { seed: images.seed, liveRestore: true, socketActivated: true });
  for (const h of HOSTS) {
    const dir = path.join(lab.dir, `${example}-${h}`);
    fs.cpSync(path.join(REPO, 'compose', example), dir, { recursive: true });
    prepare(dir, h, lab, engines[h]);
    projects[h] = dir;
  }
  const prober = await lab.startProber(`http://${LAB_VIP}/`, { intervalMs: probeMs, timeoutMs: 300 });
  const compose = (host: Host, args: string[]) => engines[host].compose(projects[host], ['--env-file', `host-${host}.env`, ...args]);
  await Promise.all(HOSTS.map((h) => compose(h, ['up', '-d'])));

  const api = async (host: Host, route: string): Promise<string> => {
    const r = await lab.exec('client', ['busybox', 'wget', '-q', '-O', '-', `http://${lab.hosts[host]!.address}:${API_PORT}${route}`], { timeoutMs: 5000 });
    if (r.code !== 0) throw new Error(`GET ${route} on ${host}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  };
  const note = (line: string): void => {
    figures.push(line);
    process.stderr.write(`[${name}] ${line}\n`);
  };
  return {
    lab,
    engines,
    projects,
    prober,
    figures,
    compose,
    api,
    note,
    status: async (host) => JSON.parse(await api(host, '/status')) as SidecarStatus,
    containerState: async (host, container) => (await engines[host].docker(['inspect', '-f', '{{.State.Status}}', container])).stdout.trim(),
    async containerOf(host, service) {
      const id = (await compose(host, ['ps', '-q', service])).stdout.trim();
      assert.ok(id !== '', `no ${service} container on ${host}`);
      return id;
    },
    async takes(hosts = HOSTS) {
      const out: Partial<Record<Host, number>> = {};
      for (const h of hosts) out[h] = metricSum(await api(h, '/metrics'), 'heartbeat_transitions_total', { to: 'held' });
      return out;
    },
    async moveGap(label, from, to, timeoutMs) {
      await prober.waitFor((r) => r.host === to && r.sentAt >= from, timeoutMs);
      const first = firstAnswerFrom(prober.records, to, from)!;
      const gap = longestGap(prober.records, from, first.sentAt);
      note(`${label}: client-seen gap ${gap.ms.toFixed(0)} ms, ${to} answering ${(first.sentAt - from).toFixed(0)} ms after the event`);
      return gap.ms;
    },
    async destroy() {
      for (const h of HOSTS) {
        if (engines[h]?.running) fs.writeFileSync(path.join(lab.dir, 'logs', `${example}-sidecar-${h}.log`), (await compose(h, ['logs', '--no-color', '-t']).catch((e: Error) => ({ stdout: e.message }))).stdout);
      }
      if (figures.length > 0) process.stderr.write(`[${name}] measured:\n${figures.map((g) => `  ${g}`).join('\n')}\n`);
      await prober.stop();
      for (const h of HOSTS) await engines[h]?.destroy();
      await lab.destroy();
    },
  };
}

/** The sum of every series of a counter whose labels include `labels`. */
function metricSum(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) total += Number(line.split(' ').at(-1));
  }
  return total;
}
