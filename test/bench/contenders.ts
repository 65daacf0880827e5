/**
 * The benchmark's contenders: heartbeat-sidecar and the Debian packages it is measured against,
 * each run as a two-host pair inside the lab's namespaces (see docs/lab.md, Peer daemons).
 *
 * One small interface covers them all. A contender is created fresh for each lab, `setup` writes
 * its configuration for the given hosts and VIPs (the first host is the preferred one), and from
 * then on `start`, `stop`, `ready` and `daemonPids` act on one host's daemon.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor, type Lab } from '../lab/netns.js';
import { etcdLabUnavailable, etcdYaml, startEtcdMembers } from '../lab/etcd.js';
import { api, LAB_VIP, MAIN, nativeYaml, startSidecar, writeRecipe, type Sidecar } from '../lab/sidecar.js';
import { allStats, descendants, killExact, readStat, type ProcStat } from './procfs.js';

export type StopSignal = 'SIGKILL' | 'SIGTERM';

/** Every VIP is a /24 on eth0 (lab hosts are 10.77.0.x/24). */
export const VIP_PREFIX = 24;

export interface Contender {
  /** Short id for `--only` and the JSON: `ours-defaults`, `keepalived-tuned`… */
  readonly id: string;
  /** What the table and chart call it. */
  readonly label: string;
  /** The settings, in a few words, for the report. */
  readonly settings: string;
  /** The preferred node takes the VIPs back when it returns. */
  readonly supportsFailback: boolean;
  /** Generous upper bounds (ms) used as timeouts: start until ready, a failover, 100 VIPs moving. */
  readonly budget: { readonly startMs: number; readonly failoverMs: number; readonly scaleMs: number };
  /** Lab hosts it needs besides the pair, for its own infrastructure (etcd members), or none. */
  readonly extraHosts?: readonly string[];
  /** Why this contender cannot run on this machine, or null. */
  unavailable(): string | null;
  /** Writes the configuration for a pair; hosts[0] is the preferred node; vips[0] is the main VIP. */
  setup(lab: Lab, hosts: readonly string[], vips: readonly string[]): Promise<void>;
  /** Starts the host's daemon; resolves once its process runs (see `ready`). */
  start(host: string): Promise<void>;
  /** Resolves once the daemon takes part in the cluster (past its start-up wait, state known). */
  ready(host: string): Promise<void>;
  /**
   * SIGKILL: the daemon and every process it made, at once (a crash). SIGTERM: the daemon's
   * main process only, as an init or `docker stop` would. Resolves once all are gone.
   */
  stop(host: string, signal: StopSignal): Promise<void>;
  running(host: string): boolean;
  /** The live processes that make up the host's daemon, main process first. */
  daemonPids(host: string): number[];
  /** Kills whatever this contender still runs, on every host. Idempotent. */
  teardown(): Promise<void>;
}

const alive = (c: ChildProcess | undefined): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null;

/** Seconds-resolution-free log wait: resolves once `file` (from byte `from`) matches `re`. */
async function waitLog(file: string, from: number, re: RegExp, timeoutMs: number, what: string, dead?: () => boolean): Promise<void> {
  await waitFor(
    () => {
      if (dead?.()) throw new Error(`${what}: the daemon exited, see ${file}`);
      let text = '';
      try {
        const fd = fs.openSync(file, 'r');
        try {
          const size = fs.fstatSync(fd).size;
          const buf = Buffer.alloc(Math.max(0, size - from));
          fs.readSync(fd, buf, 0, buf.length, from);
          text = buf.toString('utf8');
        } finally {
          fs.closeSync(fd);
        }
      } catch {
        return false;
      }
      return re.test(text);
    },
    { timeoutMs, intervalMs: 50, what: `${what} (${file})` },
  );
}

const sizeOf = (file: string): number => {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
};

function requireTools(...tools: string[]): string | null {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/libexec/heartbeat']);
  const missing = tools.filter((t) => !(t.startsWith('/') ? fs.existsSync(t) : dirs.some((d) => fs.existsSync(path.join(d, t)))));
  return missing.length > 0 ? `missing: ${missing.join(', ')}` : null;
}

/**
 * A contender whose daemon is one child the lab spawned (no daemonizing): start, signals and
 * the process tree come from the lab's ChildProcess.
 */
abstract class SpawnedPair implements Contender {
  abstract readonly id: string;
  abstract readonly label: string;
  abstract readonly settings: string;
  abstract readonly supportsFailback: boolean;
  abstract readonly budget: Contender['budget'];
  protected lab!: Lab;
  protected hosts: readonly string[] = [];
  protected vips: readonly string[] = [];
  protected readonly children = new Map<string, ChildProcess>();
  /** Log offset at the last start, for `ready`. */
  protected readonly logFrom = new Map<string, number>();

  abstract unavailable(): string | null;
  protected abstract configure(): Promise<void>;
  protected abstract spawnDaemon(host: string): ChildProcess;

  async setup(lab: Lab, hosts: readonly string[], vips: readonly string[]): Promise<void> {
    this.lab = lab;
    this.hosts = hosts;
    this.vips = vips;
    await this.configure();
  }

  protected peerOf(host: string): string {
    return this.hosts.find((h) => h !== host)!;
  }

  protected addr(host: string): string {
    return this.lab.hosts[host]!.address;
  }

  async start(host: string): Promise<void> {
    if (this.running(host)) throw new Error(`${this.id}: ${host} already runs`);
    const child = this.spawnDaemon(host);
    this.children.set(host, child);
    this.logFrom.set(host, 0); // every spawn gets a fresh log file
    await sleep(20);
    if (!alive(child)) throw new Error(`${this.id} on ${host} exited at once, see ${this.lab.logOf(child)}`);
  }

  running(host: string): boolean {
    return alive(this.children.get(host));
  }

  protected log(host: string): string {
    const c = this.children.get(host);
    return (c && this.lab.logOf(c)) ?? '';
  }

  protected dead(host: string): () => boolean {
    const c = this.children.get(host);
    return () => !alive(c);
  }

  abstract ready(host: string): Promise<void>;

  async stop(host: string, signal: StopSignal): Promise<void> {
    const child = this.children.get(host);
    if (!alive(child)) return;
    const tree = this.daemonPids(host).map((p) => readStat(p)).filter((s): s is ProcStat => s !== null);
    this.lab.kill(child, signal, signal === 'SIGKILL' ? 'group' : 'process');
    try {
      // 5 s was not always enough to see a SIGKILLed keepalived reaped under the scale probing
      await this.lab.waitExit(child, signal === 'SIGKILL' ? 20_000 : this.budget.failoverMs + 5000);
    } catch {
      this.lab.kill(child, 'SIGKILL');
      await this.lab.waitExit(child, 5000);
    }
    // helpers that left the group (none expected) would outlive the daemon: end them too
    await waitFor(() => tree.every((s) => !killExact(s, 'SIGKILL')), { timeoutMs: 5000, what: `${this.id} ${host} processes gone` });
  }

  daemonPids(host: string): number[] {
    const child = this.children.get(host);
    return alive(child) ? descendants(child.pid!) : [];
  }

  async teardown(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.stop(h, 'SIGKILL').catch(() => undefined)));
  }
}

// ---- heartbeat-sidecar ------------------------------------------------------------------------

/**
 * The lab's native YAML (`nativeYaml` of test/lab/sidecar.ts, as the lab tests use it), with the
 * group's VIP list swapped for `vips` (the scale scenario's hundred).
 */
export function nativeYamlFor(lab: Lab, hosts: readonly string[], vips: readonly string[], extra = ''): string {
  const base = nativeYaml(lab, hosts, extra);
  const line = `    vips: ["${LAB_VIP}/${VIP_PREFIX}/eth0"]`;
  if (!base.split('\n').includes(line)) throw new Error(`nativeYaml no longer has the line ${JSON.stringify(line)}: update nativeYamlFor`);
  return base.replace(line, `    vips: [${vips.map((v) => `"${v}/${VIP_PREFIX}/eth0"`).join(', ')}]`);
}

/** `haresources` for hosts[0] holding every VIP; the first keeps the recipe's `eth0:1` label. */
function haresources(hosts: readonly string[], vips: readonly string[]): string {
  return `${hosts[0]} ${vips.map((v, i) => `IPaddr::${v}/${VIP_PREFIX}/eth0${i === 0 ? ':1' : ''}`).join(' ')}\n`;
}

class Ours implements Contender {
  readonly supportsFailback = true;
  private lab!: Lab;
  private hosts: readonly string[] = [];
  private readonly sidecars = new Map<string, Sidecar>();
  private args = new Map<string, string[]>();

  constructor(
    readonly id: string,
    readonly label: string,
    readonly settings: string,
    private readonly mode: { kind: 'yaml'; extra: string } | { kind: 'recipe' } | { kind: 'etcd'; leaseTtlSec: number },
    readonly budget: Contender['budget'],
  ) {}

  get extraHosts(): readonly string[] {
    return this.mode.kind === 'etcd' ? ETCD_MEMBERS : [];
  }

  unavailable(): string | null {
    if (this.mode.kind === 'etcd') {
      const why = etcdLabUnavailable();
      if (why !== null) return why;
    }
    return fs.existsSync(MAIN) ? null : `${path.relative(process.cwd(), MAIN)} is missing: run \`npx tsc -p tsconfig.json\``;
  }

  async setup(lab: Lab, hosts: readonly string[], vips: readonly string[]): Promise<void> {
    this.lab = lab;
    this.hosts = hosts;
    if (this.mode.kind === 'etcd') {
      // a three-member etcd on hosts of its own, the pair electing through it, hosts[0] preferred
      await startEtcdMembers(lab, ETCD_MEMBERS);
      const file = path.join(lab.dir, `${this.id}.yaml`);
      fs.writeFileSync(file, etcdYaml(lab, { sidecars: hosts, members: ETCD_MEMBERS, leaseTtlSec: this.mode.leaseTtlSec, preferred: hosts[0]!, vips }).replace(/^api: .*$/m, ''));
      for (const h of hosts) this.args.set(h, ['--config', file]);
    } else if (this.mode.kind === 'yaml') {
      const file = path.join(lab.dir, `${this.id}.yaml`);
      fs.writeFileSync(file, nativeYamlFor(lab, hosts, vips, this.mode.extra));
      for (const h of hosts) this.args.set(h, ['--config', file]);
    } else {
      for (const h of hosts) {
        const dir = writeRecipe(lab, path.join(lab.dir, 'ha.d', h));
        // the recipe's file with the lab's VIPs (one, or the scale scenario's hundred)
        fs.writeFileSync(path.join(dir, 'haresources'), haresources(hosts, vips));
        this.args.set(h, ['--ha-dir', dir]);
      }
    }
  }

  async start(host: string): Promise<void> {
    if (this.running(host)) throw new Error(`${this.id}: ${host} already runs`);
    this.sidecars.set(host, startSidecar(this.lab, host, this.args.get(host)!));
    await sleep(20);
    if (!this.running(host)) throw new Error(`${this.id} on ${host} exited at once, see ${this.sidecars.get(host)!.log}`);
  }

  async ready(host: string): Promise<void> {
    const s = this.sidecars.get(host);
    await waitFor(
      async () => {
        if (!this.running(host)) throw new Error(`${this.id} on ${host} exited, see ${s?.log}`);
        try {
          return JSON.parse(await api(this.lab, host, '/readyz')).ready === true;
        } catch {
          return false;
        }
      },
      { timeoutMs: this.budget.startMs, intervalMs: 100, what: `${this.id} ready on ${host}` },
    );
  }

  running(host: string): boolean {
    return alive(this.sidecars.get(host)?.child);
  }

  async stop(host: string, signal: StopSignal): Promise<void> {
    const s = this.sidecars.get(host);
    if (!s || !this.running(host)) return;
    this.lab.kill(s.child, signal, signal === 'SIGKILL' ? 'group' : 'process');
    try {
      await this.lab.waitExit(s.child, signal === 'SIGKILL' ? 20_000 : 15_000);
    } catch {
      this.lab.kill(s.child, 'SIGKILL');
      await this.lab.waitExit(s.child, 5000);
    }
  }

  daemonPids(host: string): number[] {
    const s = this.sidecars.get(host);
    return s && this.running(host) ? descendants(s.child.pid!) : [];
  }

  async teardown(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.stop(h, 'SIGKILL').catch(() => undefined)));
  }
}

// ---- keepalived -------------------------------------------------------------------------------

class Keepalived extends SpawnedPair {
  readonly supportsFailback = true;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly settings: string,
    /** `advert_int`, and the global lines that make it valid. */
    private readonly advertInt: string,
    private readonly globals: string[],
    readonly budget: Contender['budget'],
  ) {
    super();
  }

  unavailable(): string | null {
    return requireTools('keepalived');
  }

  private file(host: string, what: string): string {
    return path.join(this.lab.dir, 'keepalived', `${host}.${what}`);
  }

  protected async configure(): Promise<void> {
    fs.mkdirSync(path.join(this.lab.dir, 'keepalived'), { recursive: true });
    for (const [i, h] of this.hosts.entries()) {
      // The classic two-node example of keepalived's documentation: MASTER 101, BACKUP 100,
      // preemption on (the default), made unicast.
      const conf = [
        'global_defs {',
        `  router_id ${h}`,
        ...this.globals.map((g) => `  ${g}`),
        '}',
        'vrrp_instance VI_1 {',
        `  state ${i === 0 ? 'MASTER' : 'BACKUP'}`,
        '  interface eth0',
        '  virtual_router_id 51',
        `  priority ${i === 0 ? 101 : 100}`,
        `  advert_int ${this.advertInt}`,
        `  unicast_src_ip ${this.addr(h)}`,
        `  unicast_peer { ${this.addr(this.peerOf(h))} }`,
        '  virtual_ipaddress {',
        ...this.vips.map((v) => `    ${v}/${VIP_PREFIX} dev eth0`),
        '  }',
        '}',
        '',
      ].join('\n');
      fs.writeFileSync(this.file(h, 'conf'), conf);
    }
    // keepalived accepts what it can and logs the rest: refuse a config it would only half use
    for (const h of this.hosts) {
      const r = await this.lab.exec(h, ['keepalived', '-t', '-l', '-f', this.file(h, 'conf')]);
      if (r.code !== 0) throw new Error(`keepalived -t refused ${this.file(h, 'conf')}: ${(r.stdout + r.stderr).trim()}`);
    }
  }

  protected spawnDaemon(host: string): ChildProcess {
    // a daemon killed and not yet reaped leaves pid files that block a restart
    for (const f of ['pid', 'vrrp.pid']) fs.rmSync(this.file(host, f), { force: true });
    return this.lab.spawn(host, ['keepalived', '-n', '-l', '-D', '-P', '-f', this.file(host, 'conf'), '-p', this.file(host, 'pid'), '-r', this.file(host, 'vrrp.pid')]);
  }

  async ready(host: string): Promise<void> {
    await waitLog(this.log(host), this.logFrom.get(host) ?? 0, /Entering (BACKUP|MASTER) STATE/, this.budget.startMs, `keepalived state on ${host}`, this.dead(host));
  }
}

// ---- ucarp ------------------------------------------------------------------------------------

class Ucarp extends SpawnedPair {
  readonly id = 'ucarp';
  readonly label = 'ucarp defaults';
  readonly settings = 'advbase 1 s, deadratio 3, no preempt; secondary advskew 10; -z';
  readonly supportsFailback = false; // without --preempt, which is not the default
  readonly budget = { startMs: 15_000, failoverMs: 15_000, scaleMs: 60_000 };

  unavailable(): string | null {
    return requireTools('ucarp', 'arping', 'ip');
  }

  protected async configure(): Promise<void> {
    const dir = path.join(this.lab.dir, 'ucarp');
    fs.mkdirSync(dir, { recursive: true });
    // ucarp passes ($1 interface, $2 the advertised VIP); the scripts manage the whole group
    fs.writeFileSync(path.join(dir, 'vips'), this.vips.join('\n') + '\n');
    fs.writeFileSync(
      path.join(dir, 'up'),
      `#!/bin/sh\nsed "s|.*|addr replace &/${VIP_PREFIX} dev $1|" ${dir}/vips | ip -batch -\n` +
        `for v in $(cat ${dir}/vips); do arping -q -U -c 3 -I "$1" "$v" & done\nwait\n`,
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(dir, 'down'),
      `#!/bin/sh\nsed "s|.*|addr del &/${VIP_PREFIX} dev $1|" ${dir}/vips | ip -force -batch - 2>/dev/null\nexit 0\n`,
      { mode: 0o755 },
    );
  }

  protected spawnDaemon(host: string): ChildProcess {
    const dir = path.join(this.lab.dir, 'ucarp');
    const skew = host === this.hosts[0] ? '0' : '10';
    return this.lab.spawn(host, ['ucarp', '-i', 'eth0', '-s', this.addr(host), '-v', '10', '-p', 'lab-secret', '-a', this.vips[0]!, '-u', `${dir}/up`, '-d', `${dir}/down`, '-k', skew, '-z']);
  }

  async ready(host: string): Promise<void> {
    await waitLog(this.log(host), this.logFrom.get(host) ?? 0, /Switching to state: (BACKUP|MASTER)/, this.budget.startMs, `ucarp state on ${host}`, this.dead(host));
  }
}

// ---- Linux-HA Heartbeat 3 ---------------------------------------------------------------------

/**
 * Heartbeat daemonizes, so its processes are not the lab's children. What marks them as ours is
 * their mount table: each host's daemon runs in a mount namespace of its own where this run's
 * `<lab dir>/heartbeat/<host>/ha.d` is bound onto /etc/ha.d. No other process has that mount.
 */
function ownedBy(marker: string): ProcStat[] {
  return allStats().filter((st) => {
    if (st.state === 'Z') return false;
    try {
      return fs
        .readFileSync(`/proc/${st.pid}/mountinfo`, 'utf8')
        .split('\n')
        .some((line) => {
          const f = line.split(' ');
          // once the lab dir is deleted (an exit hook may run after the lab's), the kernel shows
          // the bind mount's source with a `//deleted` suffix
          return f[4] === '/etc/ha.d' && (f[3] ?? '').replace(/\/\/deleted$/, '').endsWith(marker);
        });
    } catch {
      return false;
    }
  });
}

/** SIGKILLs every process owned by `marker`, repeatedly until none is left (or 50 rounds). */
function killOwned(marker: string): void {
  for (let round = 0; round < 50; round++) {
    const procs = ownedBy(marker);
    if (procs.length === 0) return;
    for (const p of procs) killExact(p, 'SIGKILL');
  }
}

/** Hosts' markers with a Heartbeat possibly running, killed at exit even when the run dies. */
const heartbeatMarkers = new Set<string>();
let exitHook = false;
function trackMarker(marker: string): void {
  heartbeatMarkers.add(marker);
  if (exitHook) return;
  exitHook = true;
  // ahead of the lab's own hook, which deletes the namespaces and the lab dir
  process.prependListener('exit', () => {
    for (const m of heartbeatMarkers) killOwned(m);
  });
}

class Heartbeat3 implements Contender {
  readonly id = 'heartbeat3';
  readonly label = 'Heartbeat 3 (recipe)';
  readonly settings = "the recipe's ha.cf: keepalive 1, warntime 5, deadtime 10, auto_failback on";
  readonly supportsFailback = true;
  readonly budget = { startMs: 120_000, failoverMs: 40_000, scaleMs: 900_000 };
  private lab!: Lab;
  private hosts: readonly string[] = [];
  /** IPaddr takes 1–2 s per address here: start-up and handovers grow with the group. */
  private perVipMs = 0;
  private readonly masters = new Map<string, ProcStat>();
  private readonly logFrom = new Map<string, number>();

  /** The tail of this host's ha.d path, unique to this run (see `ownedBy`). */
  private marker(host: string): string {
    return `/${path.basename(this.lab.dir)}/heartbeat/${host}/ha.d`;
  }

  unavailable(): string | null {
    return requireTools('/usr/libexec/heartbeat/heartbeat', 'unshare', 'nsenter', 'ifconfig', 'cl_status');
  }

  private dir(host: string): string {
    return path.join(this.lab.dir, 'heartbeat', host);
  }

  async setup(lab: Lab, hosts: readonly string[], vips: readonly string[]): Promise<void> {
    this.lab = lab;
    this.hosts = hosts;
    this.perVipMs = vips.length > 1 ? vips.length * 4000 : 0;
    for (const h of hosts) {
      const d = this.dir(h);
      fs.mkdirSync(path.join(d, 'run'), { recursive: true });
      fs.mkdirSync(path.join(d, 'log'), { recursive: true });
      // a private copy of the package's /etc/ha.d (harc, rc.d, resource.d) and /var/lib/heartbeat
      fs.cpSync('/etc/ha.d', path.join(d, 'ha.d'), { recursive: true, verbatimSymlinks: true });
      fs.cpSync('/var/lib/heartbeat', path.join(d, 'lib'), { recursive: true, verbatimSymlinks: true });
      const r = await lab.exec(h, ['chown', '-R', '--reference=/var/lib/heartbeat', path.join(d, 'lib')]);
      if (r.code !== 0) throw new Error(`chown ${d}/lib: ${r.stderr}`);
      writeRecipe(lab, path.join(d, 'ha.d'), (cf) => {
        // The real Heartbeat refuses udpport after the media lines; logd is not running here.
        const udpport = /^udpport.*\n/m.exec(cf)?.[0] ?? '';
        const moved = cf.replace(udpport, '').replace(/^(ucast\s)/m, `${udpport}$1`);
        return moved.replace(/^use_logd.*$/m, `use_logd no\nlogfile ${d}/log/ha-log\ndebugfile ${d}/log/ha-debug`);
      });
      fs.writeFileSync(path.join(d, 'ha.d', 'haresources'), haresources(hosts, vips));
    }
  }

  private logFile(host: string): string {
    return path.join(this.dir(host), 'log', 'ha-log');
  }

  private pidFromFile(host: string): number | null {
    try {
      const p = Number(fs.readFileSync(path.join(this.dir(host), 'run', 'heartbeat.pid'), 'utf8').trim());
      return Number.isInteger(p) && p > 0 ? p : null;
    } catch {
      return null;
    }
  }

  async start(host: string): Promise<void> {
    if (this.running(host)) throw new Error(`heartbeat3: ${host} already runs`);
    const d = this.dir(host);
    const left = ownedBy(this.marker(host));
    if (left.length > 0) throw new Error(`heartbeat3: processes of an earlier Heartbeat on ${host} still run: ${left.map((p) => `${p.pid} ${p.comm}`).join(', ')}`);
    trackMarker(this.marker(host));
    fs.rmSync(path.join(d, 'run', 'heartbeat.pid'), { force: true });
    this.logFrom.set(host, sizeOf(this.logFile(host)));
    const script = [
      'set -e',
      `hostname ${host}`,
      `mount --bind ${d}/ha.d /etc/ha.d`,
      `mount --bind ${d}/lib /var/lib/heartbeat`,
      `mount --bind ${d}/run /run`,
      'mkdir -p /run/heartbeat/ccm /run/heartbeat/crm /run/heartbeat/dopd /run/resource-agents',
      'chown -R hacluster:haclient /run/heartbeat /run/resource-agents',
      'exec /usr/libexec/heartbeat/heartbeat',
    ].join('\n');
    // heartbeat daemonizes: the spawned process exits once the master control process runs
    const launcher = this.lab.spawn(host, ['unshare', '--mount', '--uts', '--propagation', 'private', 'sh', '-c', script]);
    const exit = await this.lab.waitExit(launcher, 20_000);
    if (exit.code !== 0) throw new Error(`heartbeat on ${host} failed to start (${exit.code ?? exit.signal}), see ${this.lab.logOf(launcher)} and ${this.logFile(host)}`);
    // the pid file may first name a process that is about to fork: wait for the session leader
    const master = await waitFor(
      () => {
        const st = readStat(this.pidFromFile(host) ?? -1);
        return st !== null && st.session === st.pid && st.state !== 'Z' ? st : false;
      },
      { timeoutMs: 10_000, what: `heartbeat.pid naming the master control process on ${host}` },
    );
    this.masters.set(host, master);
  }

  /** cl_status inside the daemon's own mount and UTS namespace. */
  private async clStatus(host: string, ...args: string[]): Promise<string | null> {
    const m = this.masters.get(host);
    if (!m) return null;
    const r = await this.lab.exec(host, ['nsenter', '-t', String(m.pid), '-m', '-u', 'cl_status', ...args], { timeoutMs: 5000 });
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async ready(host: string): Promise<void> {
    // past initdead and done with its start-up resource negotiation
    await waitLog(this.logFile(host), this.logFrom.get(host) ?? 0, /Initial resource acquisition complete|remote resource transition completed|Local Resource acquisition completed/, this.budget.startMs + this.perVipMs, `heartbeat ready on ${host}`, () => !this.running(host));
    await waitFor(async () => {
      const s = await this.clStatus(host, 'rscstatus');
      return s !== null && s !== 'transition';
    }, { timeoutMs: this.budget.startMs + this.perVipMs, intervalMs: 200, what: `heartbeat rscstatus on ${host}` });
  }

  running(host: string): boolean {
    const m = this.masters.get(host);
    if (!m) return false;
    const now = readStat(m.pid);
    return now !== null && now.starttime === m.starttime && now.state !== 'Z';
  }

  async stop(host: string, signal: StopSignal): Promise<void> {
    const m = this.masters.get(host);
    const marker = this.marker(host);
    if (signal === 'SIGKILL') killOwned(marker);
    else if (m && this.running(host)) killExact(m, 'SIGTERM'); // what `heartbeat -k` does
    const gone = (): boolean => {
      if (ownedBy(marker).length === 0) return true;
      if (signal === 'SIGKILL') killOwned(marker); // anything forked meanwhile
      return false;
    };
    // a graceful stop releases the resources first (IPaddr stop, one shell script per VIP)
    await waitFor(gone, { timeoutMs: signal === 'SIGKILL' ? 5000 : this.budget.scaleMs, intervalMs: 50, what: `heartbeat on ${host} gone` }).catch((e: unknown) => {
      killOwned(marker);
      throw e;
    });
    this.masters.delete(host);
  }

  daemonPids(host: string): number[] {
    const m = this.masters.get(host);
    if (!m || !this.running(host)) return [];
    return [m.pid, ...ownedBy(this.marker(host)).map((p) => p.pid).filter((p) => p !== m.pid)];
  }

  async teardown(): Promise<void> {
    for (const h of this.hosts) {
      killOwned(this.marker(h));
      heartbeatMarkers.delete(this.marker(h));
    }
    this.masters.clear();
  }
}

// ---- the roster -------------------------------------------------------------------------------

/** The etcd members of the `ours-etcd` contender, lab hosts of their own beside the pair. */
const ETCD_MEMBERS = ['e1', 'e2', 'e3'] as const;

/** Tuned heartbeat-sidecar: the fastest timing we call safe (see the report's notes). */
export const OURS_TUNED = { keepalive: '25ms', warntime: '100ms', deadtime: '200ms' } as const;

export const CONTENDERS: Record<string, () => Contender> = {
  'ours-defaults': () =>
    new Ours('ours-defaults', 'heartbeat-sidecar defaults', 'native YAML, no timing keys (keepalive 100ms, deadtime 800ms)', { kind: 'yaml', extra: '' }, {
      startMs: 30_000,
      failoverMs: 10_000,
      scaleMs: 60_000,
    }),
  'ours-tuned': () =>
    new Ours(
      'ours-tuned',
      'heartbeat-sidecar tuned',
      `native YAML, keepalive ${OURS_TUNED.keepalive}, warntime ${OURS_TUNED.warntime}, deadtime ${OURS_TUNED.deadtime}`,
      { kind: 'yaml', extra: Object.entries(OURS_TUNED).map(([k, v]) => `${k}: ${v}`).join('\n') },
      { startMs: 30_000, failoverMs: 10_000, scaleMs: 60_000 },
    ),
  'ours-recipe': () =>
    new Ours('ours-recipe', 'heartbeat-sidecar (recipe)', "the recipe's ha.cf/authkeys/haresources via --ha-dir (deadtime 10 s)", { kind: 'recipe' }, {
      startMs: 90_000,
      failoverMs: 40_000,
      scaleMs: 120_000,
    }),
  'keepalived-defaults': () =>
    new Keepalived('keepalived-defaults', 'keepalived defaults', 'VRRPv2, advert_int 1, unicast, MASTER 101 / BACKUP 100, preempt', '1', [], {
      startMs: 15_000,
      failoverMs: 15_000,
      scaleMs: 60_000,
    }),
  'keepalived-tuned': () =>
    new Keepalived('keepalived-tuned', 'keepalived tuned', 'VRRPv3, advert_int 0.01 (the smallest it accepts), unicast', '0.01', ['vrrp_version 3'], {
      startMs: 15_000,
      failoverMs: 15_000,
      scaleMs: 60_000,
    }),
  'ours-etcd': () =>
    new Ours('ours-etcd', 'heartbeat-sidecar on etcd', 'election: etcd, lease_ttl 5s (the default), a three-member etcd 3.4 (heartbeat 50 ms, election timeout 500 ms, pre-vote)', { kind: 'etcd', leaseTtlSec: 5 }, {
      startMs: 30_000,
      failoverMs: 15_000,
      scaleMs: 60_000,
    }),
  heartbeat3: () => new Heartbeat3(),
  ucarp: () => new Ucarp(),
};

/** keepalived at defaults: the yardstick of every ratio. */
export const BASELINE = 'keepalived-defaults';
