/**
 * Seeded fault simulation of the pure engine (docs/architecture.md, Tests). One seed → one random cluster (2–5
 * nodes, 1–2 groups, random priorities, preferred nodes and auto_failback) and one random fault
 * schedule: loss, duplication, reordering, partitions (both ways and one way), crashes and
 * restarts, freezes beyond deadtime, health flaps, operator standby/takeover/maintenance,
 * graceful stops. After every event the invariants are checked:
 *
 * - safety: at most one node has a group's VIP, except while a fault is active or within its
 *   settle bound (a crashed or frozen node's VIP lingers until its kernel lease lapses);
 * - liveness: once nothing has changed for `settleMs`, each group has exactly one holder;
 * - no flapping: once settled, no transitions happen at all.
 *
 * Replay one seed: `npx tsx test/faults/simulate.ts --seed 1234 --trace`.
 */
import { SimCluster } from '../support/cluster-sim.js';
import type { EngineSettings } from '../../sidecar/src/engine/types.js';
import type { Timing } from '../../sidecar/src/config/types.js';
import type { GroupSpec } from '../../sidecar/src/domain/groups.js';

export const SIM_TIMING: Timing = { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 };
const LEASE_MS = 2000;
const CHAOS_MS = 15_000;
const QUIET_MS = 8_000;
/** How long after the last change the cluster must have settled: initdead + lease + deadtime + margin. */
export const SETTLE_MS = SIM_TIMING.initdeadMs + LEASE_MS + SIM_TIMING.deadtimeMs + 4 * SIM_TIMING.keepaliveMs;
/** How long two holders may overlap after a heal: the split-brain handshake, one keepalive and an apply. */
const HEAL_BOUND_MS = SIM_TIMING.warntimeMs + 3 * SIM_TIMING.keepaliveMs;

export interface Violation {
  readonly atMs: number;
  readonly invariant: 'safety' | 'liveness' | 'flapping';
  readonly detail: string;
}

export interface SimReport {
  readonly seed: number;
  readonly nodes: number;
  readonly groups: number;
  readonly faults: number;
  readonly violation: Violation | null;
  readonly trace: readonly string[];
}

/** mulberry32: small, fast, and the same sequence on every machine for a seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fault {
  readonly at: number;
  readonly describe: string;
  readonly apply: (sim: SimCluster) => void;
  /** Where a fault is temporary, when and how it ends. */
  readonly end?: { readonly at: number; readonly apply: (sim: SimCluster) => void };
  /** Whether it may legitimately cause two holders, and for how long after it ends. */
  readonly disruptive: boolean;
  readonly settleAfterEndMs: number;
}

export function simulate(seed: number, opts: { trace?: boolean } = {}): SimReport {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const between = (lo: number, hi: number): number => Math.floor(lo + random() * (hi - lo));

  const nodeCount = between(2, 6);
  const names = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
  const nodes = names.map((name) => ({ name, priority: between(0, 3) }));
  const groupCount = between(1, 3);
  const groups: GroupSpec[] = Array.from({ length: groupCount }, (_, i) => ({
    id: `g${i + 1}`,
    preferred: random() < 0.8 ? pick(names) : null,
    vips: [{ address: `10.77.1.${i + 1}`, prefixLength: 24, iface: 'eth0', label: null, family: 4 }],
  }));
  const autoFailback = random() < 0.6;
  const settings: EngineSettings[] = names.map((node) => ({ node, nodes, groups, timing: SIM_TIMING, autoFailback }));

  let lossP = 0;
  let dupP = 0;
  // A LAN's latency plus a busy event loop's: every datagram is late by a different amount.
  const latencyMs = between(1, 15);
  const baseJitterMs = between(0, 10);
  let jitterMs = baseJitterMs;
  const sim = new SimCluster(settings, {
    leaseMs: LEASE_MS,
    latencyMs,
    lose: () => lossP > 0 && random() < lossP,
    duplicate: () => dupP > 0 && random() < dupP,
    jitter: () => (jitterMs > 0 ? random() * jitterMs : 0),
  });

  const faults: Fault[] = [];
  const faultCount = between(5, 14);
  for (let i = 0; i < faultCount; i++) {
    const at = between(1000, CHAOS_MS - 3000);
    const duration = between(300, 4000);
    const node = pick(names);
    const other = pick(names.filter((n) => n !== node));
    const kind = pick(['crash', 'freeze', 'partition', 'one-way', 'loss', 'dup-reorder', 'unhealthy', 'standby', 'takeover', 'maintenance', 'shutdown'] as const);
    switch (kind) {
      case 'crash':
        faults.push({ at, describe: `crash ${node} for ${duration} ms`, apply: (s) => s.crash(node), end: { at: at + duration, apply: (s) => s.restart(node) }, disruptive: true, settleAfterEndMs: LEASE_MS });
        break;
      case 'freeze': {
        const d = duration + SIM_TIMING.deadtimeMs;
        faults.push({ at, describe: `freeze ${node} for ${d} ms`, apply: (s) => s.freeze(node, d), end: { at: at + d, apply: () => {} }, disruptive: true, settleAfterEndMs: LEASE_MS + HEAL_BOUND_MS });
        break;
      }
      case 'partition':
      case 'one-way':
        faults.push({
          at,
          describe: `${kind} ${node} / ${other} for ${duration} ms`,
          apply: (s) => s.partition(node, other, kind === 'one-way'),
          end: { at: at + duration, apply: (s) => s.heal() },
          disruptive: true,
          settleAfterEndMs: HEAL_BOUND_MS,
        });
        break;
      case 'loss': {
        const p = 0.05 + random() * 0.25;
        faults.push({ at, describe: `loss ${(p * 100).toFixed(0)}% for ${duration} ms`, apply: () => (lossP = p), end: { at: at + duration, apply: () => (lossP = 0) }, disruptive: true, settleAfterEndMs: HEAL_BOUND_MS });
        break;
      }
      case 'dup-reorder':
        faults.push({
          at,
          describe: `duplicate 20% and jitter 30 ms for ${duration} ms`,
          apply: () => ((dupP = 0.2), (jitterMs = 30)),
          end: { at: at + duration, apply: () => ((dupP = 0), (jitterMs = baseJitterMs)) },
          disruptive: false,
          settleAfterEndMs: 0,
        });
        break;
      case 'unhealthy':
        faults.push({
          at,
          describe: `${node} unhealthy for ${duration} ms`,
          apply: (s) => s.running(node) && s.send(node, { type: 'health', healthy: false, reasons: ['sim'] }),
          end: { at: at + duration, apply: (s) => s.running(node) && s.send(node, { type: 'health', healthy: true, reasons: [] }) },
          disruptive: false,
          settleAfterEndMs: 0,
        });
        break;
      case 'standby':
      case 'takeover':
        faults.push({ at, describe: `${kind} on ${node}`, apply: (s) => s.running(node) && s.send(node, { type: kind }), disruptive: false, settleAfterEndMs: 0 });
        break;
      case 'maintenance':
        faults.push({
          at,
          describe: `maintenance on ${node} for ${duration} ms`,
          apply: (s) => s.running(node) && s.send(node, { type: 'maintenance', enabled: true }),
          end: { at: at + duration, apply: (s) => s.running(node) && s.send(node, { type: 'maintenance', enabled: false }) },
          disruptive: false,
          settleAfterEndMs: 0,
        });
        break;
      case 'shutdown':
        faults.push({ at, describe: `graceful stop of ${node} for ${duration} ms`, apply: (s) => s.running(node) && s.send(node, { type: 'shutdown' }), end: { at: at + duration, apply: (s) => s.restart(node) }, disruptive: false, settleAfterEndMs: 0 });
        break;
    }
  }

  interface Step {
    readonly at: number;
    readonly describe: string;
    readonly apply: (s: SimCluster) => void;
    readonly disruptionStart?: boolean;
    readonly disruptionEnd?: boolean;
    readonly settleUntil?: number;
  }
  const steps: Step[] = [];
  for (const f of faults) {
    steps.push({ at: f.at, describe: f.describe, apply: f.apply, disruptionStart: f.disruptive });
    if (f.end !== undefined) steps.push({ at: f.end.at, describe: `end: ${f.describe}`, apply: f.end.apply, disruptionEnd: f.disruptive, settleUntil: f.end.at + f.settleAfterEndMs });
  }
  // The quiet phase: every fault ends, every node runs, healthy and in service.
  steps.push({
    at: CHAOS_MS,
    describe: 'quiet: heal, restore every node',
    apply: (s) => {
      s.heal();
      lossP = dupP = 0;
      jitterMs = baseJitterMs;
      for (const n of names) {
        if (!s.running(n) || s.node(n).state.phase === 'stopped') s.restart(n);
        s.send(n, { type: 'health', healthy: true, reasons: [] });
        s.send(n, { type: 'maintenance', enabled: false });
      }
    },
    settleUntil: CHAOS_MS + LEASE_MS,
  });
  steps.sort((a, b) => a.at - b.at);

  const trace: string[] = [];
  let violation: Violation | null = null;
  let activeDisruptions = 0;
  let unsafeUntil = 0;
  let lastChange = 0;
  let settledTransitions: number | null = null;

  const check = (s: SimCluster): void => {
    if (violation !== null) return;
    for (const g of groups) {
      const holders = s.holders(g.id);
      if (holders.length > 1 && activeDisruptions === 0 && s.now > unsafeUntil) {
        violation = { atMs: s.now, invariant: 'safety', detail: `${g.id} held by ${holders.join(', ')}` };
        return;
      }
    }
    if (s.now - lastChange < SETTLE_MS || activeDisruptions > 0) {
      settledTransitions = null;
      return;
    }
    const anyEligible = names.some((n) => s.running(n) && s.node(n).state.phase === 'running' && s.node(n).state.healthy && !s.node(n).state.maintenance);
    for (const g of groups) {
      const holders = s.holders(g.id);
      if (anyEligible && holders.length !== 1) {
        violation = { atMs: s.now, invariant: 'liveness', detail: `${g.id} held by [${holders.join(', ')}] ${SETTLE_MS} ms after the last change; claims ${JSON.stringify(s.claims(g.id))}` };
        return;
      }
    }
    const count = s.transitions;
    if (settledTransitions === null) settledTransitions = count;
    else if (count !== settledTransitions) {
      violation = { atMs: s.now, invariant: 'flapping', detail: `${count - settledTransitions} transitions while settled` };
    }
  };

  for (const step of steps) {
    sim.advance(step.at - sim.now, check);
    if (violation !== null) break;
    if (opts.trace) trace.push(`${step.at} ms: ${step.describe}; holders ${groups.map((g) => `${g.id}=[${sim.holders(g.id).join(',')}]`).join(' ')}`);
    if (step.disruptionStart) activeDisruptions++;
    if (step.disruptionEnd) activeDisruptions--;
    if (step.settleUntil !== undefined) unsafeUntil = Math.max(unsafeUntil, step.settleUntil);
    lastChange = step.at;
    step.apply(sim);
  }
  if (violation === null) sim.advance(CHAOS_MS + QUIET_MS - sim.now, check);
  if (violation === null) {
    for (const g of groups) {
      if (sim.holders(g.id).length !== 1) violation = { atMs: sim.now, invariant: 'liveness', detail: `${g.id} held by [${sim.holders(g.id).join(', ')}] at the end of the quiet phase` };
    }
  }
  if (opts.trace) {
    for (const n of sim.nodes.values()) {
      for (const a of n.log) {
        if (a.type === 'transition') trace.push(`${n.name}: ${a.group} ${a.from} -> ${a.to} (${a.reason})`);
      }
    }
  }
  return { seed, nodes: nodeCount, groups: groupCount, faults: faultCount, violation, trace };
}

function main(argv: readonly string[]): void {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const one = arg('--seed');
  if (one !== undefined) {
    const report = simulate(Number(one), { trace: argv.includes('--trace') });
    for (const line of report.trace) console.log(line);
    console.log(JSON.stringify({ ...report, trace: undefined }));
    process.exitCode = report.violation === null ? 0 : 1;
    return;
  }
  const count = Number(arg('--seeds') ?? 1000);
  const from = Number(arg('--from') ?? 1);
  let failed = 0;
  const started = Date.now();
  for (let seed = from; seed < from + count; seed++) {
    const report = simulate(seed);
    if (report.violation !== null) {
      failed++;
      console.log(`seed ${seed}: ${report.violation.invariant} at ${report.violation.atMs} ms: ${report.violation.detail}  (replay: npx tsx test/faults/simulate.ts --seed ${seed} --trace)`);
    }
  }
  console.log(`${count - failed} passed, ${failed} failed (${count} seeds in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  process.exitCode = failed === 0 ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
