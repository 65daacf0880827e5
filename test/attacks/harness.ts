/**
 * The attacker's side of the lab: a pair of daemons at native defaults, run as shipped but with
 * the usual container limit of 1024 open files, and an outsider on the same LAN (the lab's
 * client namespace) that sends only to lab addresses, bounded in count and in time.
 *
 * `HB_ATTACK_MAIN` runs another build of the daemon (an older commit's dist/…/main.js) to
 * reproduce an attack before its fix; `HB_ATTACK_FULL=1` (npm run attack) uses the full rates
 * and durations, CI the short ones.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab, type Prober } from '../lab/netns.js';
import { API_PORT, LAB_VIP, MAIN, nativeYaml, REPO, SHIPPED_NODE_FLAGS, api, requireBuild, waitReady, type Sidecar } from '../lab/sidecar.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const FULL = process.env.HB_ATTACK_FULL === '1';
export const DAEMON = process.env.HB_ATTACK_MAIN ?? MAIN;
export const HB_PORT = 694;
/** The outsider: the lab's client namespace, on the same bridge as the hosts. */
export const ATTACKER = 'client';

export interface AttackPair {
  readonly lab: Lab;
  readonly prober: Prober;
  readonly sidecars: Map<string, Sidecar>;
  readonly config: string;
  start(host: string): Sidecar;
  destroy(): Promise<void>;
}

export async function startAttackPair(name: string, hosts: readonly string[] = ['alpha', 'beta']): Promise<AttackPair> {
  if (DAEMON === MAIN) requireBuild();
  const lab = await createLab({ hosts: [...hosts], name });
  const config = path.join(lab.dir, 'sidecar.yaml');
  fs.writeFileSync(config, nativeYaml(lab, hosts));
  const sidecars = new Map<string, Sidecar>();
  const start = (host: string): Sidecar => {
    const env = { HB_NODE: host, HB_STATE_DIR: path.join(lab.dir, 'state', host) };
    // prlimit execs in place: the child's pid stays the daemon's.
    const child = lab.spawn(host, ['prlimit', '--nofile=1024:1024', '--', process.execPath, ...SHIPPED_NODE_FLAGS, DAEMON, 'run', '--config', config], { env, cwd: REPO });
    const s = { host, child, log: lab.logOf(child) ?? '' };
    sidecars.set(host, s);
    return s;
  };
  for (const h of hosts) await lab.startResponder(h);
  for (const h of hosts) start(h);
  await Promise.all(hosts.map((h) => waitReady(lab, h)));
  const prober = await lab.startProber(`http://${LAB_VIP}:8080/`);
  return {
    lab,
    prober,
    sidecars,
    config,
    start,
    async destroy() {
      await prober.stop();
      await lab.destroy();
    },
  };
}

/** Runs one of the attack scripts in the attacker's namespace; resolves with its JSON line. */
export async function attack<T>(lab: Lab, script: string, args: readonly string[], timeoutMs: number, from = ATTACKER): Promise<T> {
  const r = await lab.exec(from, ['python3', path.join(HERE, script), ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`${script} ${args.join(' ')} → ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

export interface FloodResult {
  readonly sent: number;
  readonly seconds: number;
  readonly rate: number;
}

/** Spoofed-source UDP to a lab host's heartbeat port: random junk, or given payloads in turn. */
export function flood(lab: Lab, opts: { src: string; dst: string; seconds: number; rate?: number; payloads?: readonly Buffer[] }): Promise<FloodResult> {
  const args = ['--src', opts.src, '--dst', opts.dst, '--port', String(HB_PORT), '--seconds', String(opts.seconds), '--rate', String(opts.rate ?? 0)];
  if (opts.payloads !== undefined) args.push('--hex', ...opts.payloads.map((p) => p.toString('hex')));
  else args.push('--random', '120');
  return attack<FloodResult>(lab, 'flood.py', args, (opts.seconds + 15) * 1000);
}

/**
 * Holds a process to `percent` of one CPU with a CPU cgroup of its own (cgroup v1's cpu
 * controller or v2's cpu.max, whichever the machine mounts); returns the undo. It stands in for
 * a host the flood keeps busy, or a flood faster than this machine's senders reach.
 */
export function limitCpu(pid: number, percent: number): () => void {
  const v1 = '/sys/fs/cgroup/cpu';
  const v1Mounted = fs.existsSync(path.join(v1, 'cpu.cfs_quota_us'));
  const root = v1Mounted ? v1 : '/sys/fs/cgroup';
  if (!v1Mounted && !fs.existsSync(path.join(root, 'cgroup.subtree_control'))) throw new Error('limitCpu: no CPU cgroup controller mounted');
  const dir = path.join(root, `hbs-attack-${process.pid}-${pid}`);
  fs.mkdirSync(dir);
  const period = 100_000;
  const quota = Math.round((period * percent) / 100);
  if (v1Mounted) {
    fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(period));
    fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
  } else {
    fs.writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${period}`);
  }
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
  return () => {
    try {
      fs.writeFileSync(path.join(root, 'cgroup.procs'), String(pid));
    } catch {
      // the process has exited: nothing left to move
    }
    fs.rmdirSync(dir);
  };
}

/** CPU seconds used so far and resident memory of a process, from /proc. */
export function procUsage(pid: number): { cpuSeconds: number; rssMb: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSeconds: ticks / 100, rssMb: rss === null ? 0 : Number(rss[1]) / 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's CPU share and peak RSS while `during` runs. */
export async function measure<T>(pid: number, during: Promise<T>): Promise<{ result: T; cpuPercent: number; peakRssMb: number }> {
  const start = procUsage(pid);
  const t0 = performance.now();
  let peak = start?.rssMb ?? 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, procUsage(pid)?.rssMb ?? 0);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    const result = await during;
    const end = procUsage(pid);
    const secs = (performance.now() - t0) / 1000;
    const cpuPercent = start !== null && end !== null ? (100 * (end.cpuSeconds - start.cpuSeconds)) / secs : NaN;
    return { result, cpuPercent, peakRssMb: peak };
  } finally {
    done = true;
    await sampler;
  }
}

/** Every UDP payload in a classic pcap file of Ethernet frames. */
export function udpPayloadsFromPcap(pcap: Buffer): Buffer[] {
  if (pcap.readUInt32LE(20) !== 1) throw new Error('pcap: not Ethernet');
  const out: Buffer[] = [];
  for (let at = 24; at + 16 <= pcap.length; ) {
    const caplen = pcap.readUInt32LE(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + caplen);
    at += 16 + caplen;
    const ip = frame.subarray(14);
    const udp = ip.subarray((ip[0]! & 0x0f) * 4);
    out.push(Buffer.from(udp.subarray(8, udp.readUInt16BE(4))));
  }
  return out;
}

/** `count` heartbeats from `sender` as `host` receives them, in order. */
export async function captureMany(lab: Lab, host: string, sender: string, count: number): Promise<Buffer[]> {
  const file = path.join(lab.dir, `capture-${host}-${Date.now()}.pcap`);
  const filter = ['udp', 'and', 'dst', 'port', String(HB_PORT), 'and', 'src', 'host', lab.hosts[sender]!.address];
  const r = await lab.exec(host, ['tcpdump', '-i', 'eth0', '-c', String(count), '-U', '-w', file, ...filter], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`tcpdump in ${host}: ${r.stderr}`);
  return udpPayloadsFromPcap(fs.readFileSync(file));
}

export async function metrics(lab: Lab, host: string): Promise<string> {
  return api(lab, host, '/metrics');
}

/** Sum of a metric's samples whose labels include `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

export function logLines(file: string): number {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

export { API_PORT };
