/**
 * The benchmark's scenarios, each measured from the client's side of the lab: a prober in the
 * client namespace asks the VIP "who are you?" every 10 ms and each host's responder answers with
 * its host name. Every repetition starts from the same steady state (`settle`): both daemons
 * running and ready, the preferred host the only holder, the client answered by it alone.
 *
 * Figures, all on the lab's monotonic clock (`Lab.now()`, the prober's clock):
 * - takeover (kill -9, link down, scale): from the fault until the first probe the standby answered;
 * - gap (graceful stop, failback): the longest interval between successful answers around the move;
 * - double holders: samples of `ip addr` on both hosts, about every 10 ms, that found the VIP on both;
 * - idle: RSS/PSS and CPU time of the daemon's processes from /proc, over a quiet window.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { firstAnswerFrom, longestGap } from '../lab/analysis.js';
import { waitFor, type Lab, type Prober } from '../lab/netns.js';
import type { Contender } from './contenders.js';
import { CLK_TCK, pssKb, readStat, statusKb } from './procfs.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

export const PORT = 8080;
/** Client probe period (ms) for the one-VIP scenarios. */
export const PROBE_MS = 10;
/** Probe timeout (ms): a probe that takes longer counts as unanswered. */
export const PROBE_TIMEOUT_MS = 200;
/**
 * Scale scenario: each still-pending VIP is probed every max(SCALE_ROUND_MS, SCALE_RELATIVE × time
 * since the fault), one probe in flight per VIP at most (see multiprober.ts).
 */
export const SCALE_ROUND_MS = 25;
export const SCALE_RELATIVE = 0.02;
/** Scale probes' timeout: while a VIP answers nowhere, it is also that VIP's probe period. */
export const SCALE_PROBE_TIMEOUT_MS = 100;
/** Double-holder sampling period (ms); see `localAddresses`. */
export const HOLDER_SAMPLE_MS = 5;
/** How long after a move is still watched for a second gap (flapping) and double holders. */
export const AFTER_MS = 500;
/** A steady state must hold this long, with every probe answered by the preferred host. */
export const STEADY_MS = 1000;

export type ScenarioId = 'kill9' | 'linkdown' | 'graceful' | 'failback' | 'idle' | 'scale';

export interface Rep {
  readonly rep: number;
  /** The figure, or null when the repetition failed (see error). */
  readonly value: number | null;
  readonly error?: string;
  /** Secondary figures of the same repetition. */
  readonly extra?: Readonly<Record<string, number | string | boolean | null>>;
}

export interface Pair {
  readonly lab: Lab;
  readonly c: Contender;
  readonly primary: string;
  readonly secondary: string;
  readonly vips: readonly string[];
  /** Per host, a process that lives in its namespace for the whole run (its responder). */
  readonly nsPid: Readonly<Record<string, number>>;
  /** Progress lines (stderr). */
  readonly log: (line: string) => void;
  /** Things worth reporting that are not figures (flaps seen while settling…). */
  readonly events: string[];
  /** Hosts whose daemon the benchmark stopped on purpose (others that stop have died). */
  readonly down: Set<string>;
}

/** Stops a daemon on purpose (see `revive`). */
async function stopDaemon(p: Pair, host: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  p.down.add(host);
  await p.c.stop(host, signal);
}

/** Starts every daemon that is not running; one that died without being stopped is an event. */
async function revive(p: Pair): Promise<void> {
  for (const h of [p.primary, p.secondary]) {
    if (p.c.running(h)) continue;
    if (!p.down.has(h)) {
      p.events.push(`${p.c.id}: the daemon on ${h} had exited by itself (restarted)`);
      p.log(`    the daemon on ${h} exited by itself; restarting it`);
    }
    await p.c.start(h);
    p.down.delete(h);
    await p.c.ready(h);
  }
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

// ---- steady state ---------------------------------------------------------------------------

async function holdersOf(p: Pair): Promise<string[]> {
  return p.lab.holders(p.vips[0]!);
}

/** How many of the pair's VIPs each host carries. */
async function vipCounts(p: Pair): Promise<Record<string, number>> {
  const want = new Set(p.vips);
  const out: Record<string, number> = {};
  for (const h of [p.primary, p.secondary]) {
    out[h] = (await p.lab.addresses(h)).filter((a) => a.family === 'inet' && want.has(a.local)).length;
  }
  return out;
}

async function soleHolder(p: Pair): Promise<string | null> {
  const n = await vipCounts(p);
  const all = p.vips.length;
  if (n[p.primary] === all && n[p.secondary] === 0) return p.primary;
  if (n[p.secondary] === all && n[p.primary] === 0) return p.secondary;
  return null;
}

async function tryWait(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  try {
    await waitFor(async () => (await probe()) || false, { timeoutMs, intervalMs });
    return true;
  } catch {
    return false;
  }
}

/** Runs of equal answers since `from`: `cookbook[1200–1890]×70 timeout[1900–2100]×21 …`. */
export function timeline(prober: Prober, from: number): string {
  const runs: Array<{ k: string; a: number; b: number; n: number }> = [];
  for (const r of [...prober.records].filter((x) => x.sentAt >= from).sort((x, y) => x.sentAt - y.sentAt)) {
    const k = r.host ?? r.error ?? 'error';
    const cur = runs.at(-1);
    if (cur?.k === k) (cur.b = r.sentAt), cur.n++;
    else runs.push({ k, a: r.sentAt, b: r.sentAt, n: 1 });
  }
  return runs.map((x) => `${x.k}[${x.a.toFixed(0)}–${x.b.toFixed(0)}]×${x.n}`).join(' ');
}

/** True when, over the last `ms`, every probe sent was answered, and by `host`. */
function answeredOnlyBy(prober: Prober, host: string, since: number): boolean {
  const recent = prober.records.filter((r) => r.sentAt >= since);
  return recent.length > 0 && recent.every((r) => r.host === host);
}

/**
 * Brings the pair to the steady state every repetition starts from: both daemons running and
 * ready, the preferred host the only holder of every VIP and, with a prober, the client
 * answered only by it for STEADY_MS. A contender without failback is handed back by restarting
 * the secondary. A move seen while waiting for quiet is logged as an event (a false failover).
 */
export async function settle(p: Pair, prober?: Prober): Promise<void> {
  const { c, primary, secondary } = p;
  await revive(p);
  await Promise.all([primary, secondary].map((h) => c.ready(h)));
  const holdsAll = async (): Promise<boolean> => {
    await revive(p);
    return (await soleHolder(p)) === primary;
  };
  let ok = await tryWait(holdsAll, c.supportsFailback ? c.budget.failoverMs + c.budget.startMs : 2000);
  if (!ok) {
    p.log(`    settle: ${secondary} keeps the VIP; restarting it to hand the VIP back`);
    await stopDaemon(p, secondary, 'SIGTERM');
    const primaryHolds = async (): Promise<boolean> => {
      if (!c.running(primary)) await revive(p);
      return (await soleHolder(p)) === primary;
    };
    ok = await tryWait(primaryHolds, c.budget.failoverMs + c.budget.scaleMs);
    await revive(p);
    ok = ok && (await tryWait(holdsAll, c.budget.failoverMs));
  }
  if (!ok) throw new Error(`settle: ${primary} does not become the sole holder (VIPs per host: ${JSON.stringify(await vipCounts(p))})`);
  if (prober === undefined) return;
  for (let attempt = 0; ; attempt++) {
    const since = p.lab.now();
    await sleep(STEADY_MS + PROBE_TIMEOUT_MS);
    if (answeredOnlyBy(prober, primary, since) && (await holdsAll())) {
      const [slow, fast] = [await holdersOf(p), fastHolders(p, p.vips[0]!)];
      if (slow.join() !== fast.join()) throw new Error(`settle: ip says ${slow.join()} hold the VIP, fib_trie says ${fast.join()}`);
      return;
    }
    const seen = timeline(prober, since);
    p.events.push(`${c.id}: not steady while settling (answers: ${seen || 'none'}; holders: ${(await holdersOf(p)).join(', ') || 'none'})`);
    p.log(`    settle: not steady (answers: ${seen}), waiting again`);
    if (attempt >= 5) throw new Error(`settle: no steady state after ${attempt + 1} tries (answers: ${seen})`);
    await tryWait(holdsAll, c.budget.failoverMs + c.budget.startMs);
  }
}

// ---- double holders -------------------------------------------------------------------------

/**
 * The IPv4 addresses local to the network namespace of `pid` (its `/32 host LOCAL` routes in
 * /proc/PID/net/fib_trie). A file read of ~0.05 ms, against ~50–150 ms for spawning `ip` twice
 * on this machine, which is what lets the watcher below really sample every few ms.
 */
export function localAddresses(pid: number): Set<string> {
  const out = new Set<string>();
  let last: string | null = null;
  for (const line of fs.readFileSync(`/proc/${pid}/net/fib_trie`, 'utf8').split('\n')) {
    const t = line.trim();
    if (t.startsWith('|-- ')) last = t.slice(4);
    else if (t === '/32 host LOCAL' && last !== null) out.add(last);
  }
  return out;
}

/** Hosts holding `vip`, read through a process living in each host's namespace. */
export function fastHolders(p: Pair, vip: string): string[] {
  return [p.primary, p.secondary].filter((h) => localAddresses(p.nsPid[h]!).has(vip));
}

export interface HolderWatch {
  stop(): Promise<{ samples: number; double: number }>;
}

/** Samples who holds `vip` every `everyMs` until stopped. */
export function watchHolders(p: Pair, vip: string, everyMs = HOLDER_SAMPLE_MS): HolderWatch {
  let samples = 0;
  let double = 0;
  const timer = setInterval(() => {
    samples++;
    if (fastHolders(p, vip).length > 1) double++;
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      return { samples, double };
    },
  };
}

// ---- one repetition of each scenario --------------------------------------------------------

/** The first answer from `host` sent at or after `at`, once the probes around it completed. */
async function firstServed(prober: Prober, host: string, at: number, timeoutMs: number): Promise<number> {
  await prober.waitFor((r) => r.host === host && r.sentAt >= at, timeoutMs);
  await sleep(PROBE_TIMEOUT_MS + 50); // earlier probes may complete after a later one
  return firstAnswerFrom(prober.records, host, at)!.sentAt;
}

/** kill -9 (the whole daemon) or link down on the active host → first answer from the standby. */
export async function hardFailure(p: Pair, prober: Prober, fault: 'kill9' | 'linkdown'): Promise<{ value: number; extra: Rep['extra'] }> {
  await settle(p, prober);
  const at = prober.mark(`${fault} ${p.primary}`);
  if (fault === 'kill9') await stopDaemon(p, p.primary, 'SIGKILL');
  else await p.lab.linkDown(p.primary);
  try {
    const served = await firstServed(prober, p.secondary, at, p.c.budget.failoverMs);
    const holders = await holdersOf(p);
    const gap = longestGap(prober.records, at, served);
    // After kill -9 the old host may keep the VIP (and keep answering until GARP moves the
    // client): the longest gap, the other figure, is then shorter than the takeover.
    return { value: r1(served - at), extra: { gapMs: r1(gap.ms), oldHostStillHolds: holders.includes(p.primary) } };
  } finally {
    if (fault === 'linkdown') await p.lab.linkUp(p.primary);
  }
}

/** SIGTERM of the active daemon → longest client-seen gap, and double-holder samples. */
export async function graceful(p: Pair, prober: Prober): Promise<{ value: number; extra: Rep['extra'] }> {
  await settle(p, prober);
  const watch = watchHolders(p, p.vips[0]!);
  try {
    const at = prober.mark(`SIGTERM ${p.primary}`);
    const stopped = stopDaemon(p, p.primary, 'SIGTERM');
    stopped.catch(() => {});
    const served = await firstServed(prober, p.secondary, at, p.c.budget.failoverMs);
    await sleep(AFTER_MS);
    await stopped;
    const w = await watch.stop();
    const gap = longestGap(prober.records, at, served + AFTER_MS);
    return { value: r1(gap.ms), extra: { firstAnswerMs: r1(served - at), doubleSamples: w.double, samples: w.samples, open: gap.open } };
  } finally {
    await watch.stop();
  }
}

/** The preferred host returns (after a SIGTERM) → longest client-seen gap while it takes back. */
export async function failback(p: Pair, prober: Prober): Promise<{ value: number; extra: Rep['extra'] }> {
  await settle(p, prober);
  const stoppedAt = p.lab.now();
  await stopDaemon(p, p.primary, 'SIGTERM');
  await waitFor(async () => (await soleHolder(p)) === p.secondary, { timeoutMs: p.c.budget.failoverMs + p.c.budget.scaleMs, what: `${p.secondary} holding` });
  await prober.waitFor((r) => r.host === p.secondary && r.sentAt >= stoppedAt, p.c.budget.failoverMs);
  await sleep(STEADY_MS);
  const watch = watchHolders(p, p.vips[0]!);
  try {
    const at = prober.mark(`start ${p.primary}`);
    await p.c.start(p.primary);
    p.down.delete(p.primary);
    const back = await firstServed(prober, p.primary, at, p.c.budget.startMs + p.c.budget.failoverMs);
    await sleep(AFTER_MS);
    const w = await watch.stop();
    const gap = longestGap(prober.records, at, back + AFTER_MS);
    return { value: r1(gap.ms), extra: { backAfterMs: r1(back - at), doubleSamples: w.double, samples: w.samples } };
  } finally {
    await watch.stop();
  }
}

interface Footprint {
  rssMb: number;
  pssMb: number;
  /** RSS of the main process alone (max). */
  mainRssMb: number;
  cpuPct: number;
  /** The part of cpuPct spent in reaped helpers (cutime/cstime): `ip`, `arping`, scripts. */
  helperCpuPct: number;
  processes: number;
}

/**
 * RSS and PSS (sampled every second; the maximum is reported) and CPU% of a daemon's processes
 * over `seconds`. CPU counts each process's own time and that of the helpers it waited for
 * (cutime/cstime), so a daemon that forks `ip` pays for it.
 */
async function footprint(pidsOf: () => number[], seconds: number): Promise<Footprint> {
  type T = { start: number; own: number; helpers: number };
  const first = new Map<number, T>();
  const last = new Map<number, T>();
  let rss = 0;
  let pss = 0;
  let mainRss = 0;
  let processes = 0;
  const ticks = (pid: number): T | null => {
    const s = readStat(pid);
    return s === null ? null : { start: s.starttime, own: s.utime + s.stime, helpers: s.cutime + s.cstime };
  };
  const t0 = performance.now();
  for (let i = 0; i <= seconds; i++) {
    if (i > 0) await sleep(1000 - ((performance.now() - t0) % 1000));
    const pids = pidsOf();
    if (pids.length === 0) throw new Error('footprint: the daemon is not running');
    let r = 0;
    let q = 0;
    for (const pid of pids) {
      const t = ticks(pid);
      if (t === null) continue;
      const seen = first.get(pid);
      if (seen === undefined || seen.start !== t.start) first.set(pid, t);
      last.set(pid, t);
      const kb = statusKb(pid, 'VmRSS') ?? 0;
      if (pid === pids[0]) mainRss = Math.max(mainRss, kb);
      r += kb;
      q += pssKb(pid) ?? 0;
    }
    rss = Math.max(rss, r);
    pss = Math.max(pss, q);
    processes = Math.max(processes, pids.length);
  }
  const wall = (performance.now() - t0) / 1000;
  let own = 0;
  let helpers = 0;
  for (const [pid, f] of first) {
    const l = last.get(pid) ?? f;
    own += l.own - f.own;
    helpers += l.helpers - f.helpers;
  }
  const pct = (t: number): number => (100 * t) / CLK_TCK / wall;
  return { rssMb: rss / 1024, pssMb: pss / 1024, mainRssMb: mainRss / 1024, cpuPct: pct(own + helpers), helperCpuPct: pct(helpers), processes };
}

/** Idle footprint of both daemons over `seconds`; the figures are the active host's. */
export async function idle(p: Pair, prober: Prober, seconds: number, warmupSeconds = 0): Promise<{ rss: number; pss: number; cpu: number; extra: Rep['extra'] }> {
  await settle(p, prober);
  if (warmupSeconds > 0) await sleep(warmupSeconds * 1000);
  const [active, standby] = await Promise.all([
    footprint(() => p.c.daemonPids(p.primary), seconds),
    footprint(() => p.c.daemonPids(p.secondary), seconds),
  ]);
  return {
    rss: r1(active.rssMb),
    pss: r1(active.pssMb),
    cpu: Math.round(active.cpuPct * 100) / 100,
    extra: {
      seconds,
      warmupSeconds,
      activeProcesses: active.processes,
      activeMainRssMb: r1(active.mainRssMb),
      activeHelperCpuPct: Math.round(active.helperCpuPct * 100) / 100,
      standbyRssMb: r1(standby.rssMb),
      standbyPssMb: r1(standby.pssMb),
      standbyCpuPct: Math.round(standby.cpuPct * 100) / 100,
    },
  };
}

// ---- scale ----------------------------------------------------------------------------------

interface MultiProbe {
  readonly child: ChildProcess;
  go(): void;
  /** Per-VIP sentAt of the first answer from the wanted host; rejects on timeout. */
  readonly result: Promise<{ firsts: number[]; probes: number }>;
}

async function startMultiProbe(p: Pair, want: string, deadlineMs: number, waitGo: boolean): Promise<MultiProbe> {
  const { lab } = p;
  const errLog = path.join(lab.dir, 'logs', `multiprober-${want}-${Date.now()}.log`);
  const errFd = fs.openSync(errLog, 'a');
  const child = lab.spawn(
    'client',
    [process.execPath, '--import', 'tsx', path.join(HERE, 'multiprober.ts'), '--vips', p.vips.join(','), '--port', String(PORT), '--want', want,
      '--interval', String(SCALE_ROUND_MS), '--relative', String(SCALE_RELATIVE), '--timeout', String(SCALE_PROBE_TIMEOUT_MS), '--deadline', String(deadlineMs), '--epoch', String(lab.epochNs),
      ...(waitGo ? ['--wait-go'] : [])],
    { stdio: ['pipe', 'pipe', errFd], cwd: REPO },
  );
  fs.closeSync(errFd);
  const lines = createInterface({ input: child.stdout! });
  const firsts: number[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<{ firsts: number[]; probes: number }>((resolve, reject) => {
    lines.on('line', (line) => {
      let m: { ready?: true; done?: true; timeout?: true; pending?: string[]; probes?: number; sentAt?: number };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        return;
      }
      if (m.ready) onReady();
      else if (m.done) resolve({ firsts, probes: m.probes ?? 0 });
      else if (m.timeout) reject(new Error(`${m.pending?.length} of ${p.vips.length} VIPs never answered from ${want} within ${deadlineMs} ms`));
      else if (m.sentAt !== undefined) firsts.push(m.sentAt);
    });
    child.once('exit', () => setTimeout(() => reject(new Error(`multiprober exited early, see ${errLog}`)), 100));
  });
  result.catch(() => {});
  await Promise.race([ready, result, sleep(20_000).then(() => Promise.reject(new Error(`multiprober not ready, see ${errLog}`)))]);
  return { child, go: () => child.stdin!.write('go\n'), result };
}

/** One group of N VIPs, kill -9 of the active daemon → until every VIP answers from the standby. */
export async function scale(p: Pair): Promise<{ value: number; extra: Rep['extra'] }> {
  await settle(p);
  // the client must see all of them on the preferred host first (neighbour cache primed)
  const before = await startMultiProbe(p, p.primary, p.c.budget.scaleMs, false);
  try {
    await before.result;
  } finally {
    p.lab.kill(before.child, 'SIGKILL');
  }
  const mp = await startMultiProbe(p, p.secondary, p.c.budget.scaleMs, true);
  try {
    // the state may have moved since settle (a false failover under the probing): a standby
    // that already holds some VIPs would make a takeover look instant
    const early = p.vips.filter((v) => localAddresses(p.nsPid[p.secondary]!).has(v)).length;
    const kept = p.vips.filter((v) => localAddresses(p.nsPid[p.primary]!).has(v)).length;
    if (early > 0 || kept < p.vips.length) throw new Error(`not steady at the fault: ${p.secondary} holds ${early}, ${p.primary} ${kept} of ${p.vips.length} VIPs`);
    const at = p.lab.now();
    mp.go();
    await stopDaemon(p, p.primary, 'SIGKILL');
    const { firsts, probes } = await mp.result;
    const sorted = firsts.map((t) => t - at).sort((a, b) => a - b);
    return {
      value: r1(sorted.at(-1)!),
      // the resolution actually reached: VIP-time spent waiting, per probe sent
      extra: { vips: sorted.length, firstMs: r1(sorted[0]!), medianMs: r1(sorted[Math.floor(sorted.length / 2)]!), probes, meanProbeIntervalMs: r1(sorted.reduce((a, b) => a + b, 0) / Math.max(1, probes)) },
    };
  } finally {
    p.lab.kill(mp.child, 'SIGKILL');
  }
}
