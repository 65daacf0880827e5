/**
 * The network-namespace lab (see docs/lab.md): hosts, a client and a switch, each in a
 * namespace of its own, all named `hbs-<pid>-<run><role>` and deleted again by `destroy()`, or at
 * the latest when this process exits, is interrupted or dies of an uncaught error.
 *
 *   switch ns: bridge br0, ports p0…p9 (hosts) and pc (client)
 *   host i:    eth0 = 10.77.0.(11+i)/24, MAC 02:77:00:00:00:(11+i)
 *   client:    eth0 = 10.77.0.200/24,    MAC 02:77:00:00:00:c8
 *
 * Safety: every command acts on a namespace of this lab (`ip -n NS`, `ip netns exec NS`,
 * `ss -N NS`); nothing is addressed or sent from the root namespace, and only processes this
 * lab spawned are ever signalled. Both ends of every veth are created directly inside lab
 * namespaces, so not even a transient interface appears in the root namespace.
 */
import { spawn as spawnProcess, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ProbeRecord } from './analysis.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const MAX_HOSTS = 10; // one base-10 digit in namespace and port names; 10.77.0.11–20 stays below typical VIPs
const NS_PATTERN = /^hbs-(\d+)-[0-9a-z]{2}(?:sw|cl|h\d)$/;

export interface LabOptions {
  /** Host names, in address order: hosts[i] gets 10.77.0.(11+i). */
  hosts: string[];
  /** A label for the run's tmp dir and logs; namespace names stay short regardless. */
  name?: string;
}

export interface LabNode {
  readonly ns: string;
  /** IPv4 address without prefix length (all lab nodes are on 10.77.0.0/24). */
  readonly address: string;
  readonly mac: string;
}

export interface ExecOptions {
  input?: string;
  /** Killed with SIGKILL after this long (default 10 s); the result then has code null. */
  timeoutMs?: number;
  /** Throw when the exit code is not 0. */
  check?: boolean;
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  /** Merged over process.env. */
  env?: NodeJS.ProcessEnv;
  /** Default: stdin ignored, stdout and stderr appended to `logFile`. */
  stdio?: StdioOptions;
  /** Default: `<lab.dir>/logs/<where>-<program>-<n>.log` (see `lab.logOf(child)`). */
  logFile?: string;
  cwd?: string;
}

export interface AddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export interface Responder {
  readonly host: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** The document root; index.html holds the host name. */
  readonly dir: string;
}

export interface Mark {
  readonly label: string;
  readonly at: number;
}

export interface ProberOptions {
  intervalMs?: number;
  timeoutMs?: number;
}

export interface Prober {
  readonly child: ChildProcess;
  /** Live, in completion order. */
  readonly records: readonly ProbeRecord[];
  readonly marks: readonly Mark[];
  /** Records an event on the prober's clock and returns its time. */
  mark(label: string): number;
  /** Resolves with the first record (already received or future) that matches. */
  waitFor(match: (r: ProbeRecord) => boolean, timeoutMs?: number): Promise<ProbeRecord>;
  /** Stops probing, waits for the probes in flight, returns all records sorted by sentAt. */
  stop(): Promise<ProbeRecord[]>;
}

interface Rule {
  ns: string;
  spec: string[];
  tag: string;
}

/** Runs a command (in the root namespace: callers only pass `ip -n`, `ip netns exec`, `ss -N`). */
function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('run: empty argv');
    const child = spawnProcess(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {}); // EPIPE when the command ignores its input
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res = { code, signal, stdout, stderr };
      if (opts.check && code !== 0) {
        reject(new Error(`${argv.join(' ')} → ${signal ?? code}: ${stderr.trim() || stdout.trim()}`));
      } else resolve(res);
    });
  });
}

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null && c.pid !== undefined;

/** Polls until `probe` returns something other than undefined/null/false. */
export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Namespace names on this machine (`ip -j netns list`). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list'], { check: true });
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as Array<{ name: string }>).map((n) => n.name);
}

/**
 * Deletes lab namespaces and tmp dirs left by runs whose process is gone (SIGKILLed, so no exit
 * hook ran; its spawned processes died with it through PDEATHSIG). Opt-in, for CI preambles:
 * it never touches what belongs to a live process. Returns the namespaces it deleted.
 */
export async function sweepStale(): Promise<string[]> {
  const deadRun = (re: RegExp, name: string): boolean => {
    const pid = re.exec(name)?.[1];
    return pid !== undefined && pidDead(Number(pid));
  };
  const stale = (await listNetns()).filter((ns) => deadRun(NS_PATTERN, ns));
  await Promise.all(stale.map((ns) => run(['ip', 'netns', 'del', ns])));
  for (const d of fs.readdirSync(os.tmpdir()).filter((d) => deadRun(/^hbs-(\d+)-[0-9a-z]{2}-/, d))) {
    fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
  }
  return stale;
}

/** No such process, or a zombie (kill(pid, 0) would still succeed on one). */
export function pidDead(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return true;
  }
}

// ---- process-wide cleanup -------------------------------------------------------------------

const live = new Set<Lab>();
let hooksInstalled = false;

/**
 * 'exit' runs synchronously, so it uses destroySync. Uncaught exceptions and unhandled
 * rejections end in 'exit' too (Node emits it before dying), and so does node:test's own
 * SIGINT/SIGTERM handler. Our signal handlers cover plain scripts, where a signal would otherwise
 * kill the process without any 'exit'.
 */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const lab of live) lab.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of live) lab.destroySync();
      process.exit(128 + os.constants.signals[sig]);
    });
  }
}

let runCounter = 0;

/** A short run id: unique within this process (counter) and unlikely to meet a stale one (random). */
function pickPrefix(): string {
  const existing = fs.existsSync('/run/netns') ? new Set(fs.readdirSync('/run/netns')) : new Set<string>();
  for (;;) {
    const run = `${(runCounter++ % 36).toString(36)}${Math.floor(Math.random() * 36).toString(36)}`;
    const prefix = `hbs-${process.pid}-${run}`;
    if (![...existing].some((n) => n.startsWith(prefix))) return prefix;
  }
}

const macFor = (octet: number): string => `02:77:00:00:00:${octet.toString(16).padStart(2, '0')}`;

export async function createLab(opts: LabOptions): Promise<Lab> {
  const { hosts } = opts;
  if (hosts.length < 1 || hosts.length > MAX_HOSTS) throw new RangeError(`createLab: 1–${MAX_HOSTS} hosts`);
  if (new Set(hosts).size !== hosts.length) throw new Error('createLab: duplicate host names');
  for (const h of hosts) {
    if (h === 'client' || h === 'switch' || !/^[A-Za-z0-9_.-]+$/.test(h)) throw new Error(`createLab: bad host name ${h}`);
  }
  const lab = new Lab(hosts, pickPrefix(), opts.name);
  // registered before the first namespace exists: a failure or signal mid-build cleans up too
  live.add(lab);
  installHooks();
  try {
    await lab.build();
  } catch (e) {
    await lab.destroy();
    throw e;
  }
  return lab;
}

export class Lab {
  readonly prefix: string;
  /** Per-run tmp dir (document roots, logs); removed by destroy unless HBS_LAB_KEEP=1. */
  readonly dir: string;
  readonly switchNs: string;
  readonly hosts: Readonly<Record<string, LabNode>>;
  readonly client: LabNode;
  /** Zero of the lab clock (`now()`, prober records): a CLOCK_MONOTONIC reading in ns. */
  readonly epochNs = process.hrtime.bigint();

  private readonly order: string[];
  private readonly children = new Set<ChildProcess>();
  private readonly logs = new Map<ChildProcess, string>();
  private rules: Rule[] = [];
  private seq = 0;
  private destroying: Promise<void> | undefined;
  private gone = false;

  /** Use createLab(). */
  constructor(hosts: string[], prefix: string, name?: string) {
    this.prefix = prefix;
    this.order = [...hosts];
    this.switchNs = `${prefix}sw`;
    this.hosts = Object.fromEntries(
      hosts.map((h, i) => [h, { ns: `${prefix}h${i}`, address: `10.77.0.${11 + i}`, mac: macFor(11 + i) }]),
    );
    this.client = { ns: `${prefix}cl`, address: '10.77.0.200', mac: macFor(200) };
    const label = (name ?? 'lab').replace(/[^\w.-]/g, '_');
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${label}-`));
    fs.mkdirSync(path.join(this.dir, 'logs'));
  }

  /** Every namespace of this lab, switch first. */
  get namespaces(): string[] {
    return [this.switchNs, this.client.ns, ...this.order.map((h) => this.hosts[h]!.ns)];
  }

  /** Milliseconds since the lab's epoch, on the clock the prober uses. */
  now(): number {
    return Number(process.hrtime.bigint() - this.epochNs) / 1e6;
  }

  /** @internal */
  async build(): Promise<void> {
    const sw = this.switchNs;
    // the first `ip netns add` on a machine sets up /run/netns; do it alone to avoid racing that
    await run(['ip', 'netns', 'add', sw], { check: true });
    await Promise.all(this.namespaces.slice(1).map((ns) => run(['ip', 'netns', 'add', ns], { check: true })));
    // IPv6 off everywhere: no DAD, router or MLD chatter in captures; the product is IPv4 (GARP)
    await Promise.all(
      this.namespaces.map((ns) =>
        run(['ip', 'netns', 'exec', ns, 'busybox', 'sysctl', '-w', 'net.ipv6.conf.all.disable_ipv6=1',
          'net.ipv6.conf.default.disable_ipv6=1'], { check: true }),
      ),
    );
    // no snooping: multicast heartbeats flood like on a dumb switch; STP off: ports forward at once
    await this.ipBatch(sw, ['link set lo up', 'link add br0 type bridge mcast_snooping 0 stp_state 0', 'link set br0 up']);
    const nodes: Array<[string, LabNode]> = [
      ...this.order.map((h, i): [string, LabNode] => [`p${i}`, this.hosts[h]!]),
      ['pc', this.client],
    ];
    await Promise.all(
      nodes.map(async ([port, node]) => {
        await this.ipBatch(sw, [
          `link add ${port} type veth peer name eth0 address ${node.mac} netns ${node.ns}`,
          `link set ${port} master br0 up`,
        ]);
        await this.ipBatch(node.ns, ['link set lo up', `addr add ${node.address}/24 dev eth0`, 'link set eth0 up']);
      }),
    );
  }

  private ipBatch(ns: string, lines: string[]): Promise<ExecResult> {
    return run(['ip', '-n', this.own(ns), '-batch', '-'], { input: `${lines.join('\n')}\n`, check: true });
  }

  private assertLive(): void {
    if (this.destroying) throw new Error(`lab ${this.prefix} is destroyed`);
  }

  /** Refuses anything that is not one of this lab's namespaces. */
  private own(ns: string): string {
    if (!this.namespaces.includes(ns)) throw new Error(`not a namespace of lab ${this.prefix}: ${ns}`);
    return ns;
  }

  private hostNode(host: string): LabNode {
    const node = this.hosts[host];
    if (!node) throw new Error(`lab ${this.prefix} has no host ${host} (hosts: ${this.order.join(', ')})`);
    return node;
  }

  /** The namespace of a host name, 'client', 'switch', or one of this lab's namespace names. */
  nsOf(nsOrHost: string): string {
    if (nsOrHost === 'client') return this.client.ns;
    if (nsOrHost === 'switch') return this.switchNs;
    return this.hosts[nsOrHost]?.ns ?? this.own(nsOrHost);
  }

  /** Runs a command to completion inside a lab namespace (`ip netns exec`). */
  exec(nsOrHost: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.assertLive();
    return run(['ip', 'netns', 'exec', this.nsOf(nsOrHost), ...argv], opts);
  }

  /**
   * Starts a long-running process inside a lab namespace. It leads a process group of its own
   * (so signals reach its children and a terminal's ^C does not bypass our cleanup) and gets
   * PDEATHSIG=KILL, so it dies with this process even if that is SIGKILLed and no hook runs.
   */
  spawn(nsOrHost: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    this.assertLive();
    const ns = this.nsOf(nsOrHost);
    let stdio = opts.stdio;
    let logFile: string | undefined;
    let fd: number | undefined;
    if (stdio === undefined) {
      logFile = opts.logFile ?? path.join(this.dir, 'logs', `${nsOrHost}-${path.basename(argv[0] ?? 'x')}-${++this.seq}.log`);
      fd = fs.openSync(logFile, 'a');
      stdio = ['ignore', fd, fd];
    }
    // `ip netns exec` and `setpriv` both exec in place, so child.pid is the program's own PID
    const child = spawnProcess('ip', ['netns', 'exec', ns, 'setpriv', '--pdeathsig', 'KILL', '--', ...argv], {
      stdio,
      detached: true,
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, ...opts.env },
    });
    if (fd !== undefined) fs.closeSync(fd); // the child has its own copy
    if (logFile !== undefined) this.logs.set(child, logFile);
    this.children.add(child);
    const forget = (): void => void this.children.delete(child);
    child.once('exit', forget);
    child.once('error', forget);
    return child;
  }

  /** The log file a spawned process writes to, if it was given one. */
  logOf(child: ChildProcess): string | undefined {
    return this.logs.get(child);
  }

  /**
   * Signals a spawned process's whole group (it and whatever it forked). Only while its leader
   * has not been reaped: until then the group id is certainly ours. Returns whether it was sent.
   */
  /**
   * Signals a spawned process's whole group by default (a crash takes its helpers with it);
   * `scope: 'process'` signals only the process itself, as `docker stop` or an init would.
   */
  kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', scope: 'group' | 'process' = 'group'): boolean {
    if (!alive(child) || !this.children.has(child)) return false;
    try {
      process.kill(scope === 'group' ? -child.pid! : child.pid!, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves when the process has exited (at once if it already has). */
  async waitExit(child: ChildProcess, timeoutMs = 5000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (alive(child)) {
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), timeoutMs);
      try {
        await once(child, 'exit', { signal: ac.signal });
      } catch {
        throw new Error(`pid ${child.pid} still running after ${timeoutMs} ms`);
      } finally {
        clearTimeout(t);
      }
    }
    return { code: child.exitCode, signal: child.signalCode };
  }

  /** Addresses on an interface of a host (or 'client'), from `ip -j addr show`. */
  async addresses(nsOrHost: string, iface = 'eth0'): Promise<AddrInfo[]> {
    this.assertLive();
    const { stdout } = await run(['ip', '-n', this.nsOf(nsOrHost), '-j', 'addr', 'show', 'dev', iface], { check: true });
    const links = JSON.parse(stdout) as Array<{ addr_info?: AddrInfo[] }>;
    return links.flatMap((l) => l.addr_info ?? []).map(({ family, local, prefixlen }) => ({ family, local, prefixlen }));
  }

  /** Hosts whose eth0 carries `vip` (prefix length ignored), in host order. */
  async holders(vip: string): Promise<string[]> {
    const ip = vip.split('/')[0];
    const has = await Promise.all(
      this.order.map(async (h) => (await this.addresses(h)).some((a) => a.family === 'inet' && a.local === ip)),
    );
    return this.order.filter((_, i) => has[i]);
  }

  /** A dead NIC: the host keeps running but neither sends nor receives. */
  async linkDown(host: string): Promise<void> {
    this.assertLive();
    await run(['ip', '-n', this.hostNode(host).ns, 'link', 'set', 'eth0', 'down'], { check: true });
  }

  async linkUp(host: string): Promise<void> {
    this.assertLive();
    await run(['ip', '-n', this.hostNode(host).ns, 'link', 'set', 'eth0', 'up'], { check: true });
  }

  private async addRule(ns: string, spec: string[], tag: string): Promise<void> {
    await this.exec(ns, ['iptables', '-w', '-I', 'INPUT', ...spec, '-m', 'comment', '--comment', `hbs ${tag}`, '-j', 'DROP'], { check: true });
    this.rules.push({ ns, spec, tag });
  }

  private async dropRules(match: (r: Rule) => boolean): Promise<void> {
    const doomed = this.rules.filter(match);
    this.rules = this.rules.filter((r) => !match(r));
    for (const r of doomed) {
      await this.exec(r.ns, ['iptables', '-w', '-D', 'INPUT', ...r.spec, '-m', 'comment', '--comment', `hbs ${r.tag}`, '-j', 'DROP'], { check: true });
    }
  }

  /**
   * Cuts IP traffic between two hosts (a→b only with oneWay). Rules sit in the RECEIVER's INPUT
   * and match the sender's MAC: a DROP in OUTPUT would fail the sender's sendto() with EPERM,
   * which no real partition does, and a MAC also catches packets sourced from a VIP, broadcasts
   * and multicast. ARP is not filtered (it is not IP); the client is not affected.
   */
  async partition(a: string, b: string, opts: { oneWay?: boolean } = {}): Promise<void> {
    this.assertLive();
    const [na, nb] = [this.hostNode(a), this.hostNode(b)];
    await this.addRule(nb.ns, ['-m', 'mac', '--mac-source', na.mac], `part ${a}>${b}`);
    if (!opts.oneWay) await this.addRule(na.ns, ['-m', 'mac', '--mac-source', nb.mac], `part ${b}>${a}`);
  }

  /** Removes every partition and every loss rule. */
  async heal(): Promise<void> {
    this.assertLive();
    await this.dropRules(() => true);
  }

  /**
   * Random loss of UDP datagrams to `udpPort`, on both directions of `host`'s link: what it
   * receives is dropped in its own INPUT, what it sends is dropped in each other host's INPUT
   * (matched by its MAC), again to keep EPERM away from the sender. 0 removes the loss; a new
   * call replaces the previous one for this host.
   */
  async loss(host: string, probability: number, opts: { udpPort: number }): Promise<void> {
    this.assertLive();
    if (!(probability >= 0 && probability <= 1)) throw new RangeError(`loss: probability ${probability}`);
    const node = this.hostNode(host);
    const tag = `loss ${host}`;
    await this.dropRules((r) => r.tag === tag);
    if (probability === 0) return;
    const base = ['-p', 'udp', '--dport', String(opts.udpPort), '-m', 'statistic', '--mode', 'random', '--probability', String(probability)];
    await this.addRule(node.ns, base, tag);
    for (const other of this.order.filter((h) => h !== host)) {
      await this.addRule(this.hosts[other]!.ns, [...base, '-m', 'mac', '--mac-source', node.mac], tag);
    }
  }

  /** The MAC the client's neighbour table holds for `ip`, or null (no entry, or unresolved). */
  async neighbour(ip: string): Promise<string | null> {
    this.assertLive();
    const { stdout } = await run(['ip', '-n', this.client.ns, '-j', 'neigh', 'show', 'to', ip.split('/')[0]!, 'dev', 'eth0'], { check: true });
    const entries = (stdout.trim() === '' ? [] : JSON.parse(stdout)) as Array<{ lladdr?: string }>;
    return entries[0]?.lladdr ?? null;
  }

  /** eth0's MAC as the kernel reports it. */
  async macOf(nsOrHost: string): Promise<string> {
    this.assertLive();
    const { stdout } = await run(['ip', '-n', this.nsOf(nsOrHost), '-j', 'link', 'show', 'dev', 'eth0'], { check: true });
    const mac = (JSON.parse(stdout) as Array<{ address?: string }>)[0]?.address;
    if (!mac) throw new Error(`no MAC for ${nsOrHost}`);
    return mac;
  }

  /**
   * busybox httpd in the host's namespace, serving its host name as the body of `/`. It listens
   * on the wildcard address, so it answers on the VIP whenever the VIP is on this host.
   */
  async startResponder(host: string, port = 8080): Promise<Responder> {
    const { ns } = this.hostNode(host);
    const dir = path.join(this.dir, 'www', host);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'index.html'), host);
    const child = this.spawn(host, ['busybox', 'httpd', '-f', '-p', String(port), '-h', dir]);
    await waitFor(
      async () => {
        if (!alive(child)) throw new Error(`httpd on ${host} exited, see ${this.logOf(child)}`);
        return (await run(['ss', '-N', ns, '-Hltn', 'sport', '=', `:${port}`])).stdout.trim() !== '';
      },
      { what: `httpd listening on ${host}:${port}` },
    );
    return { host, port, child, dir };
  }

  /** Starts test/lab/prober.ts in the client namespace; resolves once it is probing. */
  async startProber(url: string, { intervalMs = 10, timeoutMs = 200 }: ProberOptions = {}): Promise<Prober> {
    const logFile = path.join(this.dir, 'logs', `prober-${++this.seq}.log`);
    const errFd = fs.openSync(logFile, 'a');
    const child = this.spawn(
      'client',
      [process.execPath, '--import', 'tsx', path.join(HERE, 'prober.ts'), '--url', url,
        '--interval', String(intervalMs), '--timeout', String(timeoutMs), '--epoch', String(this.epochNs)],
      { stdio: ['ignore', 'pipe', errFd], cwd: REPO }, // cwd: `--import tsx` resolves from here
    );
    fs.closeSync(errFd);
    const records: ProbeRecord[] = [];
    const marks: Mark[] = [];
    const waiters = new Set<{ match: (r: ProbeRecord) => boolean; resolve: (r: ProbeRecord) => void }>();
    const lines = createInterface({ input: child.stdout! });
    const closed = once(lines, 'close');
    let onReady!: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    lines.on('line', (line) => {
      let msg: ProbeRecord | { ready: true };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        return; // not ours (stray output); a throw here would be an uncaught exception
      }
      if ('ready' in msg) return onReady();
      records.push(msg);
      for (const w of waiters) if (w.match(msg)) (waiters.delete(w), w.resolve(msg));
    });
    const exited = once(child, 'exit').then(() => {
      throw new Error(`prober exited before it was ready, see ${logFile}`);
    });
    exited.catch(() => {}); // only awaited during startup
    let timer: NodeJS.Timeout | undefined;
    const tooSlow = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`prober not ready after 15 s, see ${logFile}`)), 15_000);
    });
    await Promise.race([ready, exited, tooSlow]).finally(() => clearTimeout(timer));
    return {
      child,
      records,
      marks,
      mark: (label) => {
        const at = this.now();
        marks.push({ label, at });
        return at;
      },
      waitFor: (match, ms = 5000) => {
        const hit = records.find(match);
        if (hit) return Promise.resolve(hit);
        return new Promise((resolve, reject) => {
          const w = { match, resolve: (r: ProbeRecord) => (clearTimeout(t), resolve(r)) };
          const t = setTimeout(() => (waiters.delete(w), reject(new Error(`no matching probe within ${ms} ms`))), ms);
          waiters.add(w);
        });
      },
      stop: async () => {
        this.kill(child, 'SIGTERM');
        await this.waitExit(child, timeoutMs + 3000).catch(() => (this.kill(child, 'SIGKILL'), this.waitExit(child)));
        await closed;
        return [...records].sort((a, b) => a.sentAt - b.sentAt);
      },
    };
  }

  /**
   * Stops every spawned process (SIGTERM, then SIGKILL after 2 s), deletes the namespaces and the
   * tmp dir. Idempotent; concurrent calls share one teardown.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      const kids = [...this.children];
      for (const c of kids) this.kill(c, 'SIGTERM');
      await Promise.all(
        kids.map(async (c) => {
          await this.waitExit(c, 2000).catch(() => {
            this.kill(c, 'SIGKILL');
            return this.waitExit(c, 5000).catch(() => undefined);
          });
          // Whatever the leader forked and left behind (httpd's per-connection children) would
          // keep the deleted namespace alive. The group id cannot be reused while any member
          // lives, so this reaches only our processes (ESRCH when none is left).
          try {
            process.kill(-c.pid!, 'SIGKILL');
          } catch { /* group empty */ }
        }),
      );
      // order does not matter: deleting a namespace deletes its veth ends, whose peers follow
      const results = await Promise.all(this.namespaces.map((ns) => run(['ip', 'netns', 'del', ns])));
      const failed = results.filter((r) => r.code !== 0 && !/No such file/.test(r.stderr));
      this.finish();
      if (failed.length > 0) throw new Error(`lab ${this.prefix}: ${failed.map((r) => r.stderr.trim()).join('; ')}`);
    })();
    return this.destroying;
  }

  /** The exit-hook variant: synchronous, SIGKILL at once. */
  destroySync(): void {
    if (this.gone) return;
    this.destroying ??= Promise.resolve();
    for (const c of this.children) this.kill(c, 'SIGKILL');
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    this.finish();
  }

  private finish(): void {
    this.gone = true;
    live.delete(this);
    if (process.env.HBS_LAB_KEEP !== '1') fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
