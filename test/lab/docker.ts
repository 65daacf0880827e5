/**
 * Docker engines for the lab (see docs/lab.md, A Docker engine per host), and the images they run.
 *
 * Engines. `startEngine(lab, host)` runs one dockerd inside a lab host's network namespace, with
 * its own data root, exec root, socket, pid file, containerd namespace and cgroup parent, so
 * that several engines on one machine share nothing. `network_mode: host` in such an engine
 * means that lab host. It is entered with `nsenter --net` rather than `ip netns exec`, because
 * dockerd needs the real /sys (cgroups) that `ip netns exec` hides behind a fresh mount.
 *
 * Cleanup. An engine is torn down by `destroy()`, or at the latest when this process exits.
 * dockerd runs with PDEATHSIG=KILL, and its containerd dies with it, but containers outlive both
 * (their shims are reparented to init) and so do dockerd's mounts. Teardown therefore kills, by
 * PID, exactly the processes this engine started: those in its own cgroup parent (`/<ns>`, a
 * name that contains this process's PID) and the shims whose `-address` is inside the engine's
 * own directory. Frozen (paused) containers are thawed first, since SIGKILL waits for a thaw.
 * Then every mount under the engine's directory is detached and the directory removed.
 *
 * Images. There is no registry inside the lab, so `buildImages()` makes them: `lab/busybox`
 * from busybox-static, a Debian minbase by debootstrap (the release of the Dockerfile's default
 * NODE_IMAGE), a Node base image from it with the `node` running this process (the pinned major
 * of that NODE_IMAGE, see test/node-env.sh) and this machine's `npm`, stand-ins for the official
 * nginx and haproxy images from Debian's packages, and the shipped `Dockerfile` built on top with
 * only `NODE_IMAGE` (and, for the classic builder, `BUILDPLATFORM`) given.
 * The build runs on an engine in the ROOT namespace — the only thing here that touches it — with
 * `--bridge=none --iptables=false --ip-forward=false` and `docker build --network host`, so it
 * creates no bridge, NAT rule, address or sysctl there; its builds only reach the package
 * registries, never a lab address. Its data root stays in the cache (layer cache for rebuilds).
 * Results are kept under /var/cache/hbs-images (HBS_IMAGE_CACHE), keyed by a hash of everything
 * that goes into them: a tarball (for `loadImage`) and a seed data root that `startEngine(…,
 * { seed })` copies with hard links, so a lab engine starts with every image in about a second.
 *
 * CLI: `node --import tsx test/lab/docker.ts build` builds (or finds) the images and prints
 * their tarballs; `… sweep` removes what runs of dead processes left behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import type { TestContext } from 'node:test';
import { requireLab } from './guard.js';
import { pidDead, type ExecResult, type Lab } from './netns.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

/** Where built image tarballs are kept between runs. */
export const IMAGE_CACHE = process.env.HBS_IMAGE_CACHE ?? '/var/cache/hbs-images';

/**
 * The shipped image's default base, `ARG NODE_IMAGE=node:<major>-<debian release>-slim`: the lab
 * builds a registry-free stand-in of the same Node major on the same Debian release.
 */
export const SHIPPED_BASE: { readonly nodeMajor: number; readonly debian: string } = (() => {
  const m = /^ARG NODE_IMAGE=node:(\d+)-([a-z]+)(?:-slim)?$/m.exec(fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
  if (m === null) throw new Error('Dockerfile: no `ARG NODE_IMAGE=node:<major>-<debian release>[-slim]` default');
  return { nodeMajor: Number(m[1]), debian: m[2]! };
})();

/** This machine as a Docker platform, for the Dockerfile's `FROM --platform=$BUILDPLATFORM`. */
function buildPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

/** Image names as the lab knows them. The compose files get these substituted for their defaults. */
export const IMAGES = {
  busybox: 'lab/busybox:latest',
  debian: `lab/debian:${SHIPPED_BASE.debian}`,
  node: `lab/node:${SHIPPED_BASE.nodeMajor}-${SHIPPED_BASE.debian}`,
  sidecar: 'heartbeat-sidecar:lab',
  nginx: 'lab/nginx:latest',
  haproxy: 'lab/haproxy:latest',
} as const;

/** Tags the Dockerfile's build stage in the build engine only (a layer cache, never saved). */
const BUILD_STAGE_TAG = 'lab/sidecar-build-stage:cache';

/** Debian's `docker` matches Debian's dockerd (20.10); another CLI on PATH may be much newer. */
const DOCKER_CLI = fs.existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker';

/** The Debian packages this module runs, by the command that proves each is present. */
export const DOCKER_LAB_PACKAGES: Readonly<Record<string, string>> = {
  dockerd: 'docker.io',
  'docker-compose': 'docker-compose',
  debootstrap: 'debootstrap',
  busybox: 'busybox-static',
  nsenter: 'util-linux',
  setpriv: 'util-linux',
};

export interface RunOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed with SIGKILL after this long (default 60 s); the result then has code null. */
  timeoutMs?: number;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
  /** Stream output to this file instead of keeping it (long builds). */
  logFile?: string;
}

function run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    if (cmd === undefined) throw new Error('run: empty argv');
    let fd: number | undefined;
    if (opts.logFile !== undefined) fd = fs.openSync(opts.logFile, 'a');
    const child = spawn(cmd, args, {
      stdio: ['pipe', fd ?? 'pipe', fd ?? 'pipe'],
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? REPO,
    });
    if (fd !== undefined) fs.closeSync(fd);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res = { code, signal, stdout, stderr };
      if ((opts.check ?? true) && code !== 0) {
        const out = opts.logFile !== undefined ? `see ${opts.logFile}` : (stderr.trim() || stdout.trim()).slice(-2000);
        reject(new Error(`${argv.join(' ')} → ${signal ?? code}: ${out}`));
      } else resolve(res);
    });
  });
}

const onPath = (tool: string): boolean =>
  [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin'].some((dir) => {
    try {
      fs.accessSync(path.join(dir, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

/** Why Docker lab engines cannot run here, or null when they can. */
export function dockerLabUnavailable(): string | null {
  if (process.platform !== 'linux') return `Docker lab engines need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return 'Docker lab engines need root';
  const missing = Object.keys(DOCKER_LAB_PACKAGES).filter((t) => !onPath(t));
  return missing.length > 0 ? `missing tools: ${missing.join(', ')} (packages ${[...new Set(missing.map((t) => DOCKER_LAB_PACKAGES[t]))].join(' ')})` : null;
}

/**
 * Call first in a Docker lab test: `if (!requireDockerLab(t)) return;`. Like requireLab, it
 * skips on a machine that cannot run engines and fails instead when CI=true.
 */
export function requireDockerLab(t: TestContext): boolean {
  if (!requireLab(t)) return false;
  const why = dockerLabUnavailable();
  if (why === null) return true;
  if (process.env.CI === 'true') throw new Error(`Docker lab cannot run in CI: ${why}`);
  t.skip(why);
  return false;
}

/** Installs the Debian packages of missing tools (root only); test/setup.sh lists them too. */
export async function ensureDockerPackages(): Promise<void> {
  const missing = [...new Set(Object.keys(DOCKER_LAB_PACKAGES).filter((t) => !onPath(t)).map((t) => DOCKER_LAB_PACKAGES[t]!))];
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages ${missing.join(' ')}; install them as root`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run(['apt-get', 'update', '-qq'], { env, timeoutMs: 300_000 });
  await run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env, timeoutMs: 600_000 });
}

// ---- engines -----------------------------------------------------------------------------------

export interface EngineOptions {
  /**
   * dockerd's `live-restore`: containers keep running while the engine is down, as on a host
   * configured that way. Without it a graceful engine stop also stops every container.
   */
  liveRestore?: boolean;
  /** Seconds dockerd gives containers at its own shutdown (default 5: labs are impatient). */
  shutdownTimeoutSec?: number;
  /** Images and layers kept across runs (the build engine's cache); default: inside the engine's own dir, removed with it. */
  dataRoot?: string;
  /** Start with these images: `buildImages().seed`. Much faster than `loadImage`. */
  seed?: string;
  /**
   * Keep the API socket across dockerd restarts, as systemd's docker.socket does on Debian and
   * Ubuntu hosts: a holder process listens on it and hands it to each dockerd as `-H fd://`.
   * Without it dockerd re-creates its socket on start, and a container that bind-mounted the old
   * one (the sidecar) is left talking to a dead inode.
   */
  socketActivated?: boolean;
}

/**
 * The socket holder, systemd's part in socket activation: binds and listens once, then for each
 * line on stdin starts the command with the socket as fd 3 and LISTEN_PID/LISTEN_FDS set (the
 * nsenter and setpriv in front of dockerd exec, so the PID stays dockerd's), and prints its PID.
 * Perl because it is always on Debian (perl-base is essential) and Node cannot listen without
 * accepting.
 */
const SOCKET_HOLDER = String.raw`
use strict; use warnings; use Socket; use POSIX ();
$^F = 3;
my ($path, $log, @argv) = @ARGV;
socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
unlink $path;
bind($s, pack_sockaddr_un($path)) or die "bind $path: $!";
listen($s, SOMAXCONN) or die "listen: $!";
$SIG{CHLD} = 'IGNORE';
$| = 1;
print "ready\n";
while (defined(my $line = <STDIN>)) {
  my $pid = fork() // die "fork: $!";
  if ($pid == 0) {
    POSIX::dup2(fileno($s), 3) // die "dup2: $!" if fileno($s) != 3;
    $ENV{LISTEN_PID} = $$;
    $ENV{LISTEN_FDS} = 1;
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', $log) or die "open $log: $!";
    open(STDERR, '>&', \*STDOUT);
    exec { $argv[0] } @argv or die "exec $argv[0]: $!";
  }
  print "pid $pid\n";
}
`;

const live = new Set<DockerEngine>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const e of live) e.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const e of live) e.destroySync();
      process.exit(128 + os.constants.signals[sig]);
    });
  }
}

/** Starts a Docker engine inside a lab host's namespace; resolves once it answers. */
export async function startEngine(lab: Lab, host: string, opts: EngineOptions = {}): Promise<DockerEngine> {
  const ns = lab.nsOf(host);
  if (!lab.hosts[host]) throw new Error(`startEngine: ${host} is not a host of lab ${lab.prefix}`);
  return launch(host, ns, `${lab.prefix}-docker-${host.replace(/[^\w.-]/g, '_')}-`, opts);
}

async function launch(name: string, ns: string | null, dirPrefix: string, opts: EngineOptions): Promise<DockerEngine> {
  const unavailable = dockerLabUnavailable();
  if (unavailable !== null) throw new Error(unavailable);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix));
  const engine = new DockerEngine(name, ns, dir, opts);
  live.add(engine);
  installHooks();
  try {
    await engine.start();
  } catch (e) {
    await engine.destroy().catch(() => undefined);
    throw e;
  }
  return engine;
}

export class DockerEngine {
  readonly socket: string;
  readonly log: string;
  readonly dataRoot: string;
  /** The containerd namespace and the cgroup parent: unique to this engine. */
  readonly id: string;
  private child: ChildProcess | null = null;
  /** With `socketActivated`: the holder of the socket, and the dockerd it started last. */
  private holder: { child: ChildProcess; lines: string[]; waiters: Array<() => void> } | null = null;
  private activatedPid: number | null = null;
  private gone = false;
  private destroying: Promise<void> | undefined;

  /** Use startEngine(). */
  constructor(
    readonly name: string,
    /** Network namespace, or null for the root-namespace build engine. */
    readonly ns: string | null,
    readonly dir: string,
    private readonly opts: EngineOptions,
  ) {
    this.socket = path.join(dir, 'docker.sock');
    this.log = path.join(dir, 'dockerd.log');
    this.id = ns ?? `hbs-${process.pid}-build${path.basename(dir).slice(-6)}`;
    this.dataRoot = opts.dataRoot ?? path.join(dir, 'data');
    // read back by sweepStaleEngines when this process died without cleaning up
    fs.writeFileSync(path.join(dir, 'id'), this.id);
    fs.writeFileSync(path.join(dir, 'data-root'), this.dataRoot);
    fs.writeFileSync(
      path.join(dir, 'daemon.json'),
      JSON.stringify({ 'live-restore': opts.liveRestore ?? false, 'shutdown-timeout': opts.shutdownTimeoutSec ?? 5 }),
    );
  }

  /** `unix://…`, for DOCKER_HOST. */
  get host(): string {
    return `unix://${this.socket}`;
  }

  /** Environment for docker and docker-compose run against this engine. */
  get env(): NodeJS.ProcessEnv {
    return { DOCKER_HOST: this.host, DOCKER_BUILDKIT: '0', COMPOSE_DOCKER_CLI_BUILD: '0' };
  }

  get pid(): number | null {
    return this.activatedPid ?? this.child?.pid ?? null;
  }

  get running(): boolean {
    if (this.activatedPid !== null) return !pidDead(this.activatedPid);
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** A dockerode client on this engine's socket. */
  client(): Docker {
    return new Docker({ socketPath: this.socket });
  }

  /** (Re)starts dockerd on the same data; resolves when it answers `docker version`. */
  async start(timeoutMs = 60_000): Promise<void> {
    if (this.gone) throw new Error(`engine ${this.name} is destroyed`);
    if (this.running) return;
    const d = this.dir;
    if (this.opts.seed !== undefined && !fs.existsSync(this.dataRoot)) copySeed(this.opts.seed, this.dataRoot);
    const argv = [
      'dockerd', '--config-file', path.join(d, 'daemon.json'), '--data-root', this.dataRoot,
      '--exec-root', path.join(d, 'exec'), '-p', path.join(d, 'docker.pid'),
      '--bridge=none', '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--ip-forward=false',
      '--containerd-namespace', this.id, '--containerd-plugins-namespace', `${this.id}-p`,
      '--cgroup-parent', `/${this.id}`,
    ];
    const activated = this.opts.socketActivated === true;
    const wrap = ['setpriv', '--pdeathsig', 'KILL', '--', ...argv, ...(activated ? ['-H', 'fd://'] : ['-H', this.host])];
    const full = this.ns === null ? wrap : ['nsenter', `--net=/run/netns/${this.ns}`, ...wrap];
    if (activated) {
      this.activatedPid = await this.startActivated(full);
    } else {
      const fd = fs.openSync(this.log, 'a');
      // detached: a session of its own (setsid), so a terminal's ^C reaches us, not it
      const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', fd, fd], detached: true });
      fs.closeSync(fd);
      // A forgotten engine must not keep this process alive: the exit hook reaps it instead.
      child.unref();
      this.child = child;
    }
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error(`dockerd ${this.name} exited, see ${this.log}`);
      const r = await run([DOCKER_CLI, 'version', '--format', '{{.Server.Version}}'], { env: this.env, check: false, timeoutMs: 5000 });
      if (r.code === 0) return;
      if (performance.now() > deadline) throw new Error(`dockerd ${this.name} not answering after ${timeoutMs} ms, see ${this.log}`);
      await sleep(50);
    }
  }

  /** The holder's next stdout line. */
  private async holderLine(timeoutMs = 10_000): Promise<string> {
    const h = this.holder!;
    const deadline = performance.now() + timeoutMs;
    while (h.lines.length === 0) {
      if (h.child.exitCode !== null || h.child.signalCode !== null) throw new Error(`the socket holder of ${this.name} exited, see ${this.log}`);
      if (performance.now() > deadline) throw new Error(`the socket holder of ${this.name} is silent, see ${this.log}`);
      await new Promise<void>((r) => {
        h.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return h.lines.shift()!;
  }

  /** Starts dockerd through the socket holder (started first, once); resolves with dockerd's PID. */
  private async startActivated(argv: readonly string[]): Promise<number> {
    if (this.holder === null) {
      const fd = fs.openSync(this.log, 'a');
      const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'perl', '-e', SOCKET_HOLDER, this.socket, this.log, ...argv], { stdio: ['pipe', 'pipe', fd], detached: true });
      fs.closeSync(fd);
      child.unref();
      // neither may keep this process alive: the exit hook kills the holder
      for (const p of [child.stdin, child.stdout] as Array<{ unref?: () => void } | null>) p?.unref?.();
      const h = { child, lines: [] as string[], waiters: [] as Array<() => void> };
      let partial = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        partial += d;
        const parts = partial.split('\n');
        partial = parts.pop()!;
        h.lines.push(...parts);
        for (const w of h.waiters.splice(0)) w();
      });
      this.holder = h;
      const first = await this.holderLine();
      if (first !== 'ready') throw new Error(`the socket holder of ${this.name} said "${first}", see ${this.log}`);
    }
    this.holder.child.stdin!.write('start\n');
    const line = await this.holderLine();
    const m = /^pid (\d+)$/.exec(line);
    if (m === null) throw new Error(`the socket holder of ${this.name} said "${line}", see ${this.log}`);
    return Number(m[1]);
  }

  /**
   * Stops dockerd only (SIGTERM, or SIGKILL for a crash). With `liveRestore` or after SIGKILL the
   * containers keep running; `start()` brings the engine back on the same data.
   */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', timeoutMs = 20_000): Promise<void> {
    if (this.activatedPid !== null) {
      const pid = this.activatedPid;
      if (!pidDead(pid)) process.kill(pid, signal);
      const deadline = performance.now() + timeoutMs;
      while (!pidDead(pid)) {
        if (performance.now() > deadline) process.kill(pid, 'SIGKILL');
        await sleep(50);
      }
      this.activatedPid = null;
      return;
    }
    const child = this.child;
    if (child === null || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited.finally(() => clearTimeout(t));
    this.child = null;
  }

  /** Runs the docker CLI against this engine. */
  docker(args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    return run([DOCKER_CLI, ...args], { ...opts, env: { ...this.env, ...opts.env } });
  }

  /** Runs docker-compose against this engine, in `projectDir` (its compose file and .env). */
  compose(projectDir: string, args: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    return run(['docker-compose', ...args], { timeoutMs: 120_000, ...opts, cwd: projectDir, env: { ...this.env, ...opts.env } });
  }

  /**
   * Removes every container (so their processes die before dockerd does), stops dockerd, then
   * kills what is left of this engine by PID, detaches its mounts and deletes its directory.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      if (this.running) {
        const ps = await this.docker(['ps', '-aq'], { check: false, timeoutMs: 10_000 });
        const ids = ps.code === 0 ? ps.stdout.split('\n').filter(Boolean) : [];
        if (ids.length > 0) await this.docker(['rm', '-f', '-v', ...ids], { check: false, timeoutMs: 30_000 });
        await this.stop('SIGTERM', 15_000);
      }
      this.destroySync();
    })();
    return this.destroying;
  }

  /** The exit-hook variant: synchronous, SIGKILL everywhere. Idempotent. */
  destroySync(): void {
    if (this.gone) return;
    this.destroying ??= Promise.resolve();
    if (this.child !== null && this.running) this.child.kill('SIGKILL');
    if (this.activatedPid !== null && !pidDead(this.activatedPid)) killPid(this.activatedPid);
    // its dockerd, if any, dies with it (PDEATHSIG)
    this.holder?.child.kill('SIGKILL');
    this.holder = null;
    reapEngine(this.id, this.dir, this.dataRoot);
    this.gone = true;
    live.delete(this);
  }
}

/** Every cgroup directory under `/sys/fs/cgroup/<hierarchy>/<id>`, deepest first. */
function cgroupDirs(id: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
    out.push(d);
  };
  let roots: string[] = [];
  try {
    roots = fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h, id));
  } catch { /* no cgroupfs */ }
  // a v2-only machine has the id directly under /sys/fs/cgroup
  for (const r of [...roots, path.join('/sys/fs/cgroup', id)]) if (fs.existsSync(r)) walk(r);
  return out;
}

const readOr = (file: string, fallback = ''): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
};

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch { /* gone already */ }
}

/**
 * Synchronous teardown of whatever an engine left: its containers (by cgroup), its shims (by
 * their containerd address inside `dir`), its mounts and directory, its cgroups. Everything is
 * found by the engine's unique id or directory, so nothing else on the machine is touched.
 */
function reapEngine(id: string, dir: string, dataRoot: string): void {
  const address = `-address\0${path.join(dir, 'exec')}/`;
  for (let round = 0; round < 20; round++) {
    const groups = cgroupDirs(id);
    // SIGKILL is not delivered to a frozen task: thaw (cgroup v1 freezer, or v2 cgroup.freeze)
    for (const g of groups) {
      if (fs.existsSync(path.join(g, 'freezer.state'))) fs.writeFileSync(path.join(g, 'freezer.state'), 'THAWED');
      else if (fs.existsSync(path.join(g, 'cgroup.freeze'))) fs.writeFileSync(path.join(g, 'cgroup.freeze'), '0');
    }
    const pids = new Set<number>();
    for (const g of groups) for (const p of readOr(path.join(g, 'cgroup.procs')).split('\n')) if (p) pids.add(Number(p));
    for (const p of fs.readdirSync('/proc')) {
      if (/^\d+$/.test(p) && readOr(`/proc/${p}/cmdline`).includes(address)) pids.add(Number(p));
    }
    const alive = [...pids].filter((p) => !pidDead(p));
    if (alive.length === 0) break;
    for (const p of alive) killPid(p);
    spawnSync('sleep', ['0.1']);
  }
  // children before parents: reverse lexical order of mount points under dir (and the data root)
  const under = (m: string, d: string): boolean => m === d || m.startsWith(`${d}/`);
  const mounts = readOr('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => m !== undefined && (under(m, dir) || under(m, dataRoot)))
    .sort()
    .reverse();
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  fs.rmSync(dir, { recursive: true, force: true });
  for (const g of cgroupDirs(id)) {
    try {
      fs.rmdirSync(g);
    } catch { /* busy or gone */ }
  }
}

/**
 * Removes engines left by runs whose process is gone (SIGKILLed: no hook ran). Only engines
 * whose directory names a dead PID are touched. Returns the directories it removed.
 */
export function sweepStaleEngines(): string[] {
  const removed: string[] = [];
  for (const d of fs.readdirSync(os.tmpdir())) {
    const m = /^hbs-(\d+)-(?:[0-9a-z]{2}-docker|build)-/.exec(d);
    if (m === null || !pidDead(Number(m[1]))) continue;
    const dir = path.join(os.tmpdir(), d);
    const id = readOr(path.join(dir, 'id')).trim();
    const dataRoot = readOr(path.join(dir, 'data-root')).trim();
    // an id names this run's PID, so a garbled file can never point at someone else's cgroup
    reapEngine(id.startsWith(`hbs-${m[1]}-`) ? id : `hbs-${m[1]}-unknown`, dir, dataRoot === '' ? path.join(dir, 'data') : dataRoot);
    removed.push(dir);
  }
  return removed;
}

// ---- images ------------------------------------------------------------------------------------

export interface BuiltImages {
  /** One tarball holding every image below; `loadImage` it into each engine. */
  readonly tarball: string;
  readonly images: typeof IMAGES;
  /** Seconds spent, or 0 for a cache hit. */
  readonly seconds: { base: number; sidecar: number; save: number; seed: number };
  readonly cached: boolean;
  /**
   * A stopped engine's data root with every image loaded: `startEngine(…, { seed })` starts from
   * a copy of it (layers hard-linked), which takes a fraction of a second where `docker load`
   * takes many.
   */
  readonly seed: string;
}

export interface BuildOptions {
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Debian mirror for debootstrap (the machine's own, deb.debian.org by default). */
  mirror?: string;
}

function hashFiles(h: ReturnType<typeof createHash>, files: readonly string[]): void {
  for (const f of [...files].sort()) {
    h.update(`${path.relative(REPO, f)}\0`);
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
}

function listFiles(dir: string, keep: (f: string) => boolean = () => true): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter(keep);
}

/** npm for the Node base image: Debian's or NodeSource's, else the one beside node, else the one on PATH. */
const NPM_DIR = ((): string => {
  const candidates = ['/usr/lib/node_modules/npm', path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm')];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const cli = path.join(dir, 'npm');
    if (fs.existsSync(cli)) candidates.push(path.resolve(path.dirname(fs.realpathSync(cli)), '..'));
  }
  return candidates.find((d) => fs.existsSync(path.join(d, 'bin', 'npm-cli.js'))) ?? candidates[0]!;
})();
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** What the Dockerfile's build context contains, as .dockerignore lets through (approximately). */
function contextFiles(): string[] {
  const files = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json'].map((f) => path.join(REPO, f));
  return [
    ...files.filter((f) => fs.existsSync(f)),
    ...listFiles(path.join(REPO, 'sidecar')),
    ...listFiles(path.join(REPO, 'docker')),
  ];
}

/** A key for the base images: the Node binary, npm, the CA bundle, and this recipe. */
function baseKey(): string {
  const h = createHash('sha256');
  // bump the recipe version when buildBase changes
  h.update(`${SHIPPED_BASE.debian} minbase v5\0${process.version}\0`);
  h.update(fs.readFileSync(process.execPath));
  h.update(readOr(path.join(NPM_DIR, 'package.json')));
  h.update(readOr(CA_BUNDLE));
  h.update(fs.readFileSync('/bin/busybox'));
  h.update(NODE_BASE_DOCKERFILE + LAB_NGINX_DOCKERFILE + LAB_HAPROXY_DOCKERFILE);
  return h.digest('hex').slice(0, 16);
}

function sidecarKey(base: string): string {
  const h = createHash('sha256');
  h.update(`${base}\0`);
  hashFiles(h, contextFiles());
  return h.digest('hex').slice(0, 16);
}

/**
 * The official Node images keep node in /usr/local and npm in /usr/local/lib/node_modules; so
 * does this one. The registry is reached through a TLS proxy whose CA is only in this machine's
 * bundle: Node and npm are pointed at a copy of it.
 */
// libatomic1: Node 26's binary links it, and the official slim images install it the same way.
const NODE_BASE_DOCKERFILE = `FROM ${IMAGES.debian}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends libatomic1 >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-bundle.crt /usr/local/share/hbs-lab/ca-bundle.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/hbs-lab/ca-bundle.crt NPM_CONFIG_CAFILE=/usr/local/share/hbs-lab/ca-bundle.crt
CMD ["node"]
`;

/** Stand-ins for the official nginx and haproxy images: Debian's packages, same paths and commands. */
const LAB_NGINX_DOCKERFILE = `FROM ${IMAGES.debian}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx >/dev/null \\
 && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /usr/share/nginx/html /etc/nginx/conf.d \\
 && rm -f /etc/nginx/sites-enabled/default \\
 && printf 'server {\\n  listen 80 default_server;\\n  root /usr/share/nginx/html;\\n}\\n' > /etc/nginx/conf.d/default.conf \\
 && echo lab-nginx > /usr/share/nginx/html/index.html \\
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
`;

const LAB_HAPROXY_DOCKERFILE = `FROM ${IMAGES.debian}
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends haproxy >/dev/null \\
 && rm -rf /var/lib/apt/lists/* && mkdir -p /usr/local/etc/haproxy /run/haproxy
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
`;

/** A simple lock between processes: a directory, stale when its owner's PID is dead. */
async function withLock<T>(lockDir: string, log: (l: string) => void, fn: () => Promise<T>): Promise<T> {
  for (let waited = 0; ; waited++) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readOr(path.join(lockDir, 'pid'), '0'));
      if (owner > 0 && pidDead(owner)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (waited % 50 === 0) log(`waiting for the image build lock held by pid ${owner || '?'}`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * Builds every lab image (or finds them cached) and returns one tarball with all of them. The
 * sidecar image is the shipped Dockerfile, built with only `NODE_IMAGE` changed.
 *
 * The build engine keeps its data root in the cache directory, so a rebuild after a source edit
 * reuses the base images and the `npm ci` and `apt-get` layers, and only compiles again.
 */
export async function buildImages(opts: BuildOptions = {}): Promise<BuiltImages> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`[images] ${l}\n`));
  const major = Number(process.versions.node.split('.')[0]);
  if (major !== SHIPPED_BASE.nodeMajor) {
    // the Node base image is a copy of this very binary: another major would test another image
    throw new Error(`the lab's Node base image copies this process's node (${process.version}), but the Dockerfile's default NODE_IMAGE is Node ${SHIPPED_BASE.nodeMajor}: run through npm test or test/run.sh, which put test/node's Node ${SHIPPED_BASE.nodeMajor} first on PATH`);
  }
  fs.mkdirSync(IMAGE_CACHE, { recursive: true });
  const base = baseKey();
  const key = sidecarKey(base);
  const tarball = path.join(IMAGE_CACHE, `lab-images-${key}.tar`);
  const seed = path.join(IMAGE_CACHE, `seed-${key}`);
  const hit = (): BuiltImages => ({ tarball, images: IMAGES, seconds: { base: 0, sidecar: 0, save: 0, seed: 0 }, cached: true, seed });
  if (fs.existsSync(tarball) && fs.existsSync(seed)) return hit();
  await ensureDockerPackages();
  return withLock(path.join(IMAGE_CACHE, '.lock'), log, async () => {
    if (fs.existsSync(tarball) && fs.existsSync(seed)) return hit();
    if (fs.existsSync(tarball)) {
      const t = performance.now();
      await makeSeed(tarball, seed);
      return { ...hit(), seconds: { base: 0, sidecar: 0, save: 0, seed: (performance.now() - t) / 1000 } };
    }
    const logFile = path.join(IMAGE_CACHE, `build-${key}.log`);
    fs.writeFileSync(logFile, '');
    log(`building lab images ${key} (log: ${logFile})`);
    const dataRoot = path.join(IMAGE_CACHE, 'engine');
    const baseKeyFile = path.join(IMAGE_CACHE, 'engine.base-key');
    let engine: DockerEngine | null = null;
    try {
      engine = await launch('build', null, `hbs-${process.pid}-build-`, { dataRoot }).catch(async (err: unknown) => {
        // a data root left broken by a crash: start over from nothing
        log(`build engine failed to start (${(err as Error).message}); wiping its data root`);
        fs.rmSync(dataRoot, { recursive: true, force: true });
        fs.rmSync(baseKeyFile, { force: true });
        return launch('build', null, `hbs-${process.pid}-build-`, { dataRoot });
      });
      const t0 = performance.now();
      const present = await Promise.all(
        [IMAGES.busybox, IMAGES.debian, IMAGES.node, IMAGES.nginx, IMAGES.haproxy].map(async (i) => (await engine!.docker(['image', 'inspect', i], { check: false })).code === 0),
      );
      if (readOr(baseKeyFile).trim() !== base || present.includes(false)) {
        fs.rmSync(baseKeyFile, { force: true });
        await buildBase(engine, engine.dir, opts.mirror ?? 'http://deb.debian.org/debian', logFile, log);
        fs.writeFileSync(baseKeyFile, base);
      }
      const t1 = performance.now();
      log(`base images ready in ${((t1 - t0) / 1000).toFixed(1)} s; building the Dockerfile`);
      // BUILDPLATFORM: BuildKit sets it, the classic builder of Debian's docker.io does not.
      const build = ['build', '--network', 'host', '--build-arg', `NODE_IMAGE=${IMAGES.node}`, '--build-arg', `BUILDPLATFORM=${buildPlatform()}`, '-f', 'Dockerfile'];
      // The build stage gets a tag of its own: untagged, its layers (npm ci) would be pruned
      // below as dangling, and the next build would run npm ci again.
      await engine.docker([...build, '--target', 'build', '-t', BUILD_STAGE_TAG, '.'], { cwd: REPO, logFile, timeoutMs: 900_000 });
      await engine.docker([...build, '-t', IMAGES.sidecar, '.'], { cwd: REPO, logFile, timeoutMs: 900_000 });
      const t2 = performance.now();
      log(`sidecar image built in ${((t2 - t1) / 1000).toFixed(1)} s; saving`);
      // earlier builds' images, now untagged, and their intermediate layers
      await engine.docker(['image', 'prune', '-f'], { check: false, timeoutMs: 120_000 });
      await engine.docker(['save', '-o', `${tarball}.part`, ...Object.values(IMAGES)], { timeoutMs: 300_000 });
      fs.renameSync(`${tarball}.part`, tarball);
      const t3 = performance.now();
      await engine.destroy();
      engine = null;
      await makeSeed(tarball, seed);
      const t4 = performance.now();
      for (const f of fs.readdirSync(IMAGE_CACHE)) {
        const stale = [tarball, logFile, seed].every((keep) => f !== path.basename(keep)) && /^(lab-images-|build-|seed-)/.test(f);
        if (stale) fs.rmSync(path.join(IMAGE_CACHE, f), { recursive: true, force: true });
      }
      const seconds = { base: (t1 - t0) / 1000, sidecar: (t2 - t1) / 1000, save: (t3 - t2) / 1000, seed: (t4 - t3) / 1000 };
      log(`saved ${tarball} in ${seconds.save.toFixed(1)} s, seeded ${seed} in ${seconds.seed.toFixed(1)} s`);
      return { tarball, images: IMAGES, seconds, cached: false, seed };
    } finally {
      await engine?.destroy();
    }
  });
}

/**
 * `lab/busybox` from this machine's busybox-static, one link per applet: a tiny image for tests
 * that need a container but not the project's images (`busybox httpd -f -p PORT -h DIR`).
 */
export async function importBusybox(engine: DockerEngine): Promise<void> {
  const bb = fs.mkdtempSync(path.join(engine.dir, 'busybox-'));
  try {
    fs.mkdirSync(path.join(bb, 'bin'));
    fs.copyFileSync('/bin/busybox', path.join(bb, 'bin/busybox'));
    fs.chmodSync(path.join(bb, 'bin/busybox'), 0o755);
    const applets = (await run(['/bin/busybox', '--list'])).stdout.split('\n').filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
    for (const a of applets) fs.symlinkSync('busybox', path.join(bb, 'bin', a));
    fs.mkdirSync(path.join(bb, 'tmp'), { mode: 0o1777 });
    await pipeTar(bb, engine, ['import', '--change', 'ENV PATH=/bin', '--change', 'CMD ["sh"]', '-', IMAGES.busybox]);
  } finally {
    fs.rmSync(bb, { recursive: true, force: true });
  }
}

async function buildBase(engine: DockerEngine, engineDir: string, mirror: string, logFile: string, log: (l: string) => void): Promise<void> {
  const work = path.join(engineDir, 'base');
  fs.mkdirSync(work);
  await importBusybox(engine);
  log(`lab/busybox imported; debootstrap ${SHIPPED_BASE.debian} minbase (about 30 s)`);

  const root = path.join(work, 'debian-root');
  await run(['debootstrap', '--variant=minbase', SHIPPED_BASE.debian, root, mirror], { logFile, timeoutMs: 600_000 });
  // Like the official debian images (debuerreotype): apt keeps no package caches, downloads or
  // translations, so a Dockerfile's `apt-get install` layer holds only what it installs.
  for (const d of ['var/cache/apt', 'var/lib/apt/lists']) {
    fs.rmSync(path.join(root, d), { recursive: true, force: true });
    fs.mkdirSync(path.join(root, d, d.endsWith('lists') ? 'partial' : 'archives/partial'), { recursive: true });
  }
  const clean = 'rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true';
  fs.writeFileSync(
    path.join(root, 'etc/apt/apt.conf.d/docker-clean'),
    `DPkg::Post-Invoke { "${clean}"; };\nAPT::Update::Post-Invoke { "${clean}"; };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n`,
  );
  fs.writeFileSync(path.join(root, 'etc/apt/apt.conf.d/docker-no-languages'), 'Acquire::Languages "none";\n');
  fs.writeFileSync(path.join(root, 'etc/apt/apt.conf.d/docker-gzip-indexes'), 'Acquire::GzipIndexes "true";\n');
  await pipeTar(root, engine, ['import', '--change', 'CMD ["bash"]', '-', IMAGES.debian]);
  log('lab/debian imported; node base, nginx and haproxy stand-ins');

  const ctx = path.join(work, 'node-ctx');
  fs.mkdirSync(ctx);
  fs.copyFileSync(process.execPath, path.join(ctx, 'node'));
  fs.cpSync(NPM_DIR, path.join(ctx, 'npm'), { recursive: true, verbatimSymlinks: true });
  fs.copyFileSync(CA_BUNDLE, path.join(ctx, 'ca-bundle.crt'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), NODE_BASE_DOCKERFILE);
  await engine.docker(['build', '--network', 'host', '-t', IMAGES.node, ctx], { logFile, timeoutMs: 300_000 });
  for (const [tag, text] of [[IMAGES.nginx, LAB_NGINX_DOCKERFILE], [IMAGES.haproxy, LAB_HAPROXY_DOCKERFILE]] as const) {
    const d = fs.mkdtempSync(path.join(work, 'ctx-'));
    fs.writeFileSync(path.join(d, 'Dockerfile'), text);
    await engine.docker(['build', '--network', 'host', '-t', tag, d], { logFile, timeoutMs: 300_000 });
  }
}

/** `tar -C dir -c . | docker …` without a shell. */
function pipeTar(dir: string, engine: DockerEngine, dockerArgs: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tar = spawn('tar', ['--numeric-owner', '-C', dir, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const docker = spawn(DOCKER_CLI, dockerArgs, { stdio: [tar.stdout, 'pipe', 'pipe'], env: { ...process.env, ...engine.env } });
    let err = '';
    tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
    docker.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    docker.stdout!.resume();
    let tarCode: number | null = null;
    tar.on('close', (c) => (tarCode = c));
    docker.on('error', reject);
    docker.on('close', (code) => {
      if (code === 0 && (tarCode === 0 || tarCode === null)) resolve();
      else reject(new Error(`tar | docker ${dockerArgs.join(' ')} → tar ${tarCode}, docker ${code}: ${err.trim()}`));
    });
  });
}

/**
 * Loads the tarball into a fresh engine (no network: `--bridge=none`, and it never runs a
 * container) and keeps its stopped data root as the seed of lab engines.
 */
async function makeSeed(tarball: string, seed: string): Promise<void> {
  const part = `${seed}.part`;
  fs.rmSync(part, { recursive: true, force: true });
  const engine = await launch('seed', null, `hbs-${process.pid}-build-`, { dataRoot: part });
  try {
    await loadImage(engine, tarball);
  } finally {
    await engine.destroy();
  }
  fs.renameSync(part, seed);
}

/**
 * A new data root from a seed: image layers (overlay2) hard-linked, which Docker never writes in
 * place (a container's changes go to its own upper directory); everything else copied, since
 * Docker rewrites some of it (its bolt databases) in place.
 */
function copySeed(seed: string, dataRoot: string): void {
  fs.mkdirSync(dataRoot, { recursive: true, mode: 0o710 });
  for (const entry of fs.readdirSync(seed)) {
    const args = entry === 'overlay2' ? ['-a', '--link'] : ['-a'];
    const r = spawnSync('cp', [...args, path.join(seed, entry), path.join(dataRoot, entry)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cp ${args.join(' ')} ${entry} from the seed ${seed}: ${r.stderr.trim()}`);
  }
}

/** `docker load -i tarball` into an engine; resolves with the seconds it took. */
export async function loadImage(engine: DockerEngine, tarball: string): Promise<number> {
  const t0 = performance.now();
  await engine.docker(['load', '-q', '-i', tarball], { timeoutMs: 300_000 });
  return (performance.now() - t0) / 1000;
}

// ---- CLI ---------------------------------------------------------------------------------------

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const cmd = process.argv[2];
  if (cmd === 'build') {
    const built = await buildImages();
    process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
  } else if (cmd === 'sweep') {
    process.stdout.write(`${sweepStaleEngines().join('\n')}\n`);
  } else {
    process.stderr.write('usage: node --import tsx test/lab/docker.ts build|sweep\n');
    process.exitCode = 2;
  }
}
