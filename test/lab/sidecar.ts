/**
 * Runs heartbeat-sidecar daemons on lab hosts: writes their configuration (the recipe's
 * Heartbeat files with only the addresses rewritten, or a native YAML), starts the compiled
 * daemon inside the host's namespace, and reads its surfaces from inside that namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { addressChanges } from './analysis.js';
import { createLab, waitFor, type Lab, type Prober } from './netns.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../..');
export const RECIPE_DIR = path.join(REPO, 'examples/heartbeat-recipe');
export const MAIN = path.join(REPO, 'dist/sidecar/src/main.js');
export const LAB_VIP = '10.77.0.100';
export const API_PORT = 9694;

export function requireBuild(): void {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npx tsc -p tsconfig.json\` (npm test does it)`);
}

/**
 * The recipe's three files for one lab host, unchanged but for addresses: each `ucast` address
 * becomes the matching lab host's, the VIP becomes LAB_VIP. Nothing else is touched.
 */
export function writeRecipe(lab: Lab, dir: string, edit: (haCf: string) => string = (s) => s): string {
  fs.mkdirSync(dir, { recursive: true });
  const haCf = fs.readFileSync(path.join(RECIPE_DIR, 'ha.cf'), 'utf8');
  const ucast = [...haCf.matchAll(/^ucast\s+\S+\s+(\S+)/gm)].map((m) => m[1]!);
  const hostAddresses = Object.values(lab.hosts).map((h) => h.address);
  const rewrite = (text: string): string => {
    let out = text;
    ucast.forEach((addr, i) => (out = out.split(addr).join(hostAddresses[i]!)));
    return out;
  };
  const haresources = fs.readFileSync(path.join(RECIPE_DIR, 'haresources'), 'utf8');
  const vip = /IPaddr2?::([0-9.]+)/.exec(haresources)![1]!;
  fs.writeFileSync(path.join(dir, 'ha.cf'), edit(rewrite(haCf)));
  fs.writeFileSync(path.join(dir, 'haresources'), haresources.split(vip).join(LAB_VIP));
  fs.copyFileSync(path.join(RECIPE_DIR, 'authkeys'), path.join(dir, 'authkeys'));
  // git does not keep file modes, and Heartbeat (and we) refuse an authkeys others can read.
  fs.chmodSync(path.join(dir, 'authkeys'), 0o600);
  return dir;
}

export interface Sidecar {
  readonly host: string;
  readonly child: ChildProcess;
  readonly log: string;
}

/**
 * The Node flags the image ships with, so the lab measures what ships: its `ENV NODE_OPTIONS`,
 * and the flags its ENTRYPOINT gives node before the daemon's script.
 */
const DOCKERFILE = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
const SHIPPED_NODE_OPTIONS = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(DOCKERFILE)?.[1] ?? '';
export const SHIPPED_NODE_FLAGS: readonly string[] = (() => {
  const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(DOCKERFILE)?.[1] ?? '[]') as string[];
  const node = entrypoint.indexOf('node');
  const script = entrypoint.findIndex((a) => a.endsWith('main.js'));
  return node >= 0 && script > node ? entrypoint.slice(node + 1, script) : [];
})();

export function startSidecar(lab: Lab, host: string, args: string[], env: Record<string, string> = {}): Sidecar {
  requireBuild();
  const env2 = { HB_NODE: host, HB_STATE_DIR: path.join(lab.dir, 'state', host), NODE_OPTIONS: SHIPPED_NODE_OPTIONS, ...env };
  const child = lab.spawn(host, [process.execPath, ...SHIPPED_NODE_FLAGS, MAIN, 'run', ...args], { env: env2, cwd: REPO });
  return { host, child, log: lab.logOf(child) ?? '' };
}

/** GET on the sidecar's own API from inside its namespace (busybox wget: no tools needed there). */
export async function api(lab: Lab, host: string, route: string): Promise<string> {
  const r = await lab.exec(host, ['busybox', 'wget', '-q', '-O', '-', `http://127.0.0.1:${API_PORT}${route}`], { timeoutMs: 5000 });
  if (r.code !== 0) throw new Error(`GET ${route} on ${host} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function cli(lab: Lab, host: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return lab.exec(host, [process.execPath, MAIN, ...args], { timeoutMs: 10_000 });
}

/** Waits for the host's API; with its daemon given, fails at once, with the log's end, if the daemon exits first. */
export async function waitReady(lab: Lab, host: string, timeoutMs = 30_000, sidecar?: Sidecar): Promise<void> {
  await waitFor(
    async () => {
      const code = sidecar?.child.exitCode ?? sidecar?.child.signalCode ?? null;
      if (code !== null) {
        const tail = fs.readFileSync(sidecar!.log, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
        throw new Error(`${host}'s daemon exited (${code}) before its API answered; the end of ${sidecar!.log}:\n${tail}`);
      }
      try {
        return (await api(lab, host, '/healthz')).length > 0;
      } catch {
        return false;
      }
    },
    { what: `${host} API answering`, timeoutMs },
  );
}

export async function waitHolders(lab: Lab, expected: string[], timeoutMs: number): Promise<number> {
  const start = lab.now();
  await waitFor(async () => (await lab.holders(LAB_VIP)).join() === expected.join(), { what: `VIP held by [${expected.join(', ')}]`, timeoutMs });
  return lab.now() - start;
}

/**
 * Samples who holds the VIP every few ms until stopped; reports any moment with two holders, and
 * the longest time between two samples: each sample runs `ip` in every namespace, so on a busy
 * machine they come slower than asked, and that, not their count, says how blind the watch was.
 *
 * The namespaces are read one after the other, a few ms apart, so a sample can straddle a clean
 * handover (the old holder deletes, the new one adds 2–4 ms later) and see both. A sample that
 * sees two holders therefore counts only when the kernels' own record (`ip -ts monitor address`
 * in every host, one clock) shows two hosts holding at one instant within the sample; a sample
 * the record cannot settle (a host's monitor gone) counts as two holders.
 */
export async function watchDoubleHolders(lab: Lab, everyMs = 20): Promise<{ stop(): Promise<{ samples: number; double: number; longestBlindMs: number }> }> {
  const hosts = Object.keys(lab.hosts);
  const monitors = hosts.map((host) => ({ host, child: lab.spawn(host, ['ip', '-ts', '-o', 'monitor', 'address', 'dev', 'eth0'], { env: { TZ: 'UTC' } }) }));
  // `ip monitor` subscribes within a few ms of starting; nothing before that is judged by it.
  await new Promise((r) => setTimeout(r, 150));
  const since = Date.now();
  const initial = new Set(await lab.holders(LAB_VIP));
  let running = true;
  let samples = 0;
  let longestBlindMs = 0;
  const suspects: { from: number; to: number }[] = [];
  const loop = (async () => {
    let last = lab.now();
    while (running) {
      const from = Date.now();
      const h = await lab.holders(LAB_VIP);
      const now = lab.now();
      longestBlindMs = Math.max(longestBlindMs, now - last);
      last = now;
      samples++;
      if (h.length > 1) suspects.push({ from, to: Date.now() });
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const records = await Promise.all(
        monitors.map(async ({ host, child }) => {
          const alive = child.exitCode === null && child.signalCode === null;
          lab.kill(child);
          await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
          return { host, alive, changes: addressChanges(fs.readFileSync(lab.logOf(child) ?? '/dev/null', 'utf8'), LAB_VIP) };
        }),
      );
      const settled = records.every((r) => r.alive);
      const holdersAt = (t: number) =>
        records.filter((r) => {
          let holds = initial.has(r.host);
          for (const c of r.changes) if (c.at <= t && c.at >= since) holds = c.present;
          return holds;
        }).length;
      const double = suspects.filter(({ from, to }) => {
        if (!settled) return true;
        const instants = [from, ...records.flatMap((r) => r.changes.map((c) => c.at)).filter((t) => t > from && t <= to)];
        return instants.some((t) => holdersAt(t) > 1);
      }).length;
      return { samples, double, longestBlindMs };
    },
  };
}

export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return null;
}

/** A native YAML config for lab hosts: one ucast path, one group `web` on LAB_VIP preferring the first host. */
export function nativeYaml(lab: Lab, hosts: readonly string[], extra = ''): string {
  const peers = hosts.map((h) => lab.hosts[h]!.address);
  return [
    `nodes: [${hosts.map((h) => `{name: ${h}}`).join(', ')}]`,
    'paths:',
    `  - ucast: {iface: eth0, peers: [${peers.join(', ')}]}`,
    'groups:',
    `  - name: web`,
    `    preferred: ${hosts[0]}`,
    `    vips: ["${LAB_VIP}/24/eth0"]`,
    'auth:',
    '  send_key: 1',
    '  keys: [{id: 1, method: sha256, secret: lab-secret-not-for-production}]',
    extra,
  ].join('\n');
}

/** A native pair on a fresh lab: config written, responders and daemons up, the client probing. */
export interface NativePair {
  readonly lab: Lab;
  readonly prober: Prober;
  readonly sidecars: Map<string, Sidecar>;
  /** (Re)starts a host's daemon with the pair's config. */
  start(host: string): Sidecar;
  destroy(): Promise<void>;
}

export async function startNativePair(name: string, hosts: readonly string[], extraYaml = ''): Promise<NativePair> {
  const lab = await createLab({ hosts: [...hosts], name });
  const config = path.join(lab.dir, 'sidecar.yaml');
  fs.writeFileSync(config, nativeYaml(lab, hosts, extraYaml));
  const sidecars = new Map<string, Sidecar>();
  const start = (h: string): Sidecar => {
    const s = startSidecar(lab, h, ['--config', config]);
    sidecars.set(h, s);
    return s;
  };
  let prober: Prober;
  try {
    for (const h of hosts) await lab.startResponder(h);
    for (const h of hosts) start(h);
    await Promise.all(hosts.map((h) => waitReady(lab, h, 30_000, sidecars.get(h))));
    prober = await lab.startProber(`http://${LAB_VIP}:8080/`);
  } catch (err) {
    // Nobody else holds the lab yet: its responders and daemons would keep the test process
    // alive long after its tests failed.
    await lab.destroy();
    throw err;
  }
  return {
    lab,
    prober,
    sidecars,
    start,
    async destroy() {
      await prober.stop();
      await lab.destroy();
    },
  };
}

/** Every group transition the hosts' daemons made, from their own counters. */
export async function transitionCount(lab: Lab, hosts: readonly string[]): Promise<number> {
  let total = 0;
  for (const h of hosts) {
    for (const line of (await api(lab, h, '/metrics')).split('\n')) if (line.startsWith('heartbeat_transitions_total{')) total += Number(line.split(' ').at(-1));
  }
  return total;
}
