/**
 * The failover benchmark: for each contender, a lab of two hosts and a client (network
 * namespaces made and deleted by test/lab/netns.ts), every scenario repeated, raw figures kept.
 * `runBench` does the measuring; run.ts is the command line around it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Lab, type Prober } from '../lab/netns.js';
import { BASELINE, CONTENDERS, type Contender } from './contenders.js';
import { checkTargets, markdownTable, METRICS, portable, summarize, svgChart, targetsMarkdown, type ContenderInfo, type MetricId, type MetricResult, type SummaryRow, type TargetCheck } from './report.js';
import * as S from './scenarios.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');

/** The recipe's node names: Heartbeat names itself by host name, so every pair uses them. */
export const HOSTS = ['cookbook', 'cookbook2'] as const;
/** The VIP of the one-VIP scenarios (the recipe's, moved into the lab). */
export const VIP = '10.77.0.100';
/** The scale scenario's group: 10.77.0.100–199 (hosts are .11–.20, the client .200). */
export const SCALE_VIPS = Array.from({ length: 100 }, (_, i) => `10.77.0.${100 + i}`);

export type Scenario = 'kill9' | 'linkdown' | 'graceful' | 'failback' | 'idle' | 'scale';
export const ALL_SCENARIOS: readonly Scenario[] = ['idle', 'graceful', 'failback', 'kill9', 'linkdown', 'scale'];
export const QUICK_SCENARIOS: readonly Scenario[] = ['idle', 'graceful', 'kill9'];
export const ORDER = Object.keys(CONTENDERS);

export interface BenchOptions {
  contenders: readonly string[];
  scenarios: readonly Scenario[];
  reps: number;
  idleSeconds: number;
  /** Seconds between the pair settling and the idle window: the start-up's own work (module loading, the first full GCs) is over by then. */
  idleWarmupSeconds?: number;
  quick: boolean;
  log: (line: string) => void;
}

export interface BenchResult {
  readonly schema: 1;
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly options: { contenders: readonly string[]; scenarios: readonly Scenario[]; reps: number; idleSeconds: number; idleWarmupSeconds?: number };
  readonly method: Record<string, number | string>;
  readonly machine: Record<string, unknown>;
  readonly durationS: number;
  readonly contenders: ContenderInfo[];
  readonly results: MetricResult[];
  readonly summary: SummaryRow[];
  readonly targets: TargetCheck[];
  /** Not figures, but worth knowing: false failovers seen while settling, failed repetitions. */
  readonly events: string[];
  /** Set when the report merges several runs (`--from-json A --from-json B`): which measured what. */
  readonly runs?: ReadonlyArray<{ readonly date: string; readonly contenders: readonly string[]; readonly durationS: number }>;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 }).trim();
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
  }
}

const dpkgVersion = (pkg: string): string => sh('dpkg-query', ['-W', '-f=${Version}', pkg]) || 'not installed';

/** Newest mtime (ms) of the files under `dir` matching `re`, or 0. */
function newest(dir: string, re: RegExp): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && re.test(e.name)) t = Math.max(t, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

/** Whether dist/ (what the benchmark runs) is older than sidecar/src (what was edited). */
export function buildFreshness(): { built: string | null; stale: boolean } {
  const main = path.join(REPO, 'dist/sidecar/src/main.js');
  if (!fs.existsSync(main)) return { built: null, stale: true };
  const built = newest(path.join(REPO, 'dist/sidecar/src'), /\.js$/);
  return { built: new Date(built).toISOString(), stale: newest(path.join(REPO, 'sidecar/src'), /\.ts$/) > built };
}

export function machineInfo(): Record<string, unknown> {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    versions: {
      'heartbeat-sidecar': `${pkg.version} (${sh('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']) || 'no git'}${sh('git', ['-C', REPO, 'status', '--porcelain', '--', 'sidecar']) ? ', sidecar/ modified' : ''})`,
      keepalived: sh('keepalived', ['--version']).split('\n')[0] ?? '',
      heartbeat: dpkgVersion('heartbeat'),
      ucarp: dpkgVersion('ucarp'),
      'heartbeat-sidecar build': buildFreshness(),
      kernelBridge: 'linux bridge, veth',
    },
  };
}

const rounded = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 300);

interface Collector {
  add(contender: string, metric: MetricId, rep: S.Rep): void;
  skip(contender: string, metric: MetricId, why: string): void;
}

/** Runs `reps` repetitions; after two failures in a row the rest are given up. */
async function repeat(
  p: S.Pair,
  reps: number,
  what: string,
  once: (i: number) => Promise<void>,
  onError: (i: number, err: string) => void,
): Promise<void> {
  let failedInRow = 0;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    try {
      await once(i);
      failedInRow = 0;
      p.log(`    ${what} #${i + 1}: ok (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      const msg = rounded(e);
      onError(i, msg);
      p.events.push(`${p.c.id} ${what} #${i + 1} failed: ${msg}`);
      p.log(`    ${what} #${i + 1}: FAILED: ${msg}`);
      if (++failedInRow >= 2) {
        for (let j = i + 1; j < reps; j++) onError(j, 'not run: two failures in a row');
        return;
      }
    }
  }
}

async function withPair<T>(c: Contender, vips: readonly string[], label: string, events: string[], log: (l: string) => void, body: (p: S.Pair, lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab({ hosts: [...HOSTS, ...(c.extraHosts ?? [])], name: `bench-${c.id}-${label}` });
  const nsPid: Record<string, number> = {};
  const p: S.Pair = { lab, c, primary: HOSTS[0], secondary: HOSTS[1], vips, nsPid, log, events, down: new Set() };
  try {
    await c.setup(lab, HOSTS, vips);
    for (const h of HOSTS) nsPid[h] = (await lab.startResponder(h, S.PORT)).child.pid!;
    // the preferred host first, so that it wins a start-up race where that is how it works
    await c.start(p.primary);
    await c.start(p.secondary);
    return await body(p, lab);
  } finally {
    await c.teardown().catch((e: unknown) => log(`  teardown: ${rounded(e)}`));
    await lab.destroy();
  }
}

async function benchContender(id: string, opts: BenchOptions, out: Collector, events: string[]): Promise<void> {
  const c = CONTENDERS[id]!();
  const { log } = opts;
  const oneVip = opts.scenarios.filter((s) => s !== 'scale');
  if (oneVip.length > 0) {
    log(`  ${c.label}: two hosts + client, VIP ${VIP}`);
    try {
      await withPair(c, [VIP], 'pair', events, log, async (p, lab) => {
        const prober: Prober = await lab.startProber(`http://${VIP}:${S.PORT}/`, { intervalMs: S.PROBE_MS, timeoutMs: S.PROBE_TIMEOUT_MS });
        try {
          for (const scen of oneVip) {
            if (scen === 'failback' && !c.supportsFailback) {
              out.skip(id, 'failback', 'no failback at these settings');
              continue;
            }
            const fail = (metrics: MetricId[]) => (i: number, err: string) => metrics.forEach((m) => out.add(id, m, { rep: i, value: null, error: err }));
            switch (scen) {
              case 'idle':
                await repeat(p, opts.reps, 'idle', async (i) => {
                  const r = await S.idle(p, prober, opts.idleSeconds, opts.idleWarmupSeconds ?? 0);
                  out.add(id, 'idle-rss', { rep: i, value: r.rss, extra: { pssMb: r.pss, ...r.extra } });
                  out.add(id, 'idle-cpu', { rep: i, value: r.cpu, extra: r.extra });
                }, fail(['idle-rss', 'idle-cpu']));
                break;
              case 'graceful':
                await repeat(p, opts.reps, 'graceful', async (i) => {
                  const r = await S.graceful(p, prober);
                  out.add(id, 'graceful', { rep: i, value: r.value, extra: r.extra });
                  out.add(id, 'graceful-double', { rep: i, value: Number(r.extra?.['doubleSamples'] ?? NaN), extra: { samples: r.extra?.['samples'] ?? null } });
                }, fail(['graceful', 'graceful-double']));
                break;
              case 'failback':
                await repeat(p, opts.reps, 'failback', async (i) => {
                  const r = await S.failback(p, prober);
                  out.add(id, 'failback', { rep: i, value: r.value, extra: r.extra });
                }, fail(['failback']));
                break;
              case 'kill9':
              case 'linkdown':
                await repeat(p, opts.reps, scen, async (i) => {
                  const r = await S.hardFailure(p, prober, scen);
                  out.add(id, scen, { rep: i, value: r.value, extra: r.extra });
                }, fail([scen]));
                break;
            }
          }
        } finally {
          await prober.stop();
        }
      });
    } catch (e) {
      const msg = rounded(e);
      events.push(`${id}: the pair failed: ${msg}`);
      log(`  ${c.label}: FAILED: ${msg}`);
    }
  }
  if (opts.scenarios.includes('scale')) {
    const cs = CONTENDERS[id]!();
    log(`  ${cs.label}: two hosts + client, ${SCALE_VIPS.length} VIPs in one group`);
    try {
      await withPair(cs, SCALE_VIPS, 'scale', events, log, async (p) => {
        await repeat(p, opts.reps, 'scale', async (i) => {
          const r = await S.scale(p);
          out.add(id, 'scale', { rep: i, value: r.value, extra: r.extra });
        }, (i, err) => out.add(id, 'scale', { rep: i, value: null, error: err }));
      });
    } catch (e) {
      const msg = rounded(e);
      events.push(`${id}: the scale pair failed: ${msg}`);
      log(`  ${cs.label} (scale): FAILED: ${msg}`);
    }
  }
}

/** Which metrics a scenario produces. */
const METRICS_OF: Record<Scenario, MetricId[]> = {
  idle: ['idle-rss', 'idle-cpu'],
  graceful: ['graceful', 'graceful-double'],
  failback: ['failback'],
  kill9: ['kill9'],
  linkdown: ['linkdown'],
  scale: ['scale'],
};

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const t0 = performance.now();
  const date = new Date().toISOString();
  const machine = machineInfo();
  const reps = new Map<string, S.Rep[]>();
  const skipped = new Map<string, string>();
  const key = (c: string, m: MetricId): string => `${c}\u0000${m}`;
  const out: Collector = {
    add: (c, m, rep) => reps.set(key(c, m), [...(reps.get(key(c, m)) ?? []), rep]),
    skip: (c, m, why) => skipped.set(key(c, m), why),
  };
  const events: string[] = [];
  const contenders: ContenderInfo[] = [];
  for (const id of opts.contenders) {
    const factory = CONTENDERS[id];
    if (!factory) throw new Error(`unknown contender ${id} (known: ${ORDER.join(', ')})`);
    const c = factory();
    const why = c.unavailable();
    contenders.push({ id, label: c.label, settings: c.settings, ...(why ? { skipped: why } : {}) });
    if (why !== null) {
      opts.log(`${c.label}: skipped: ${why}`);
      for (const s of opts.scenarios) for (const m of METRICS_OF[s]) out.skip(id, m, why);
      continue;
    }
    opts.log(`${c.label} (${c.settings})`);
    const tc = performance.now();
    await benchContender(id, opts, out, events);
    opts.log(`  ${c.label}: ${((performance.now() - tc) / 1000).toFixed(0)} s`);
  }
  const wanted = new Set(opts.scenarios.flatMap((s) => METRICS_OF[s]));
  const results: MetricResult[] = [];
  for (const m of METRICS) {
    if (!wanted.has(m.id)) continue;
    for (const c of contenders) {
      const r = reps.get(key(c.id, m.id)) ?? [];
      const s = skipped.get(key(c.id, m.id)) ?? (r.length === 0 ? 'not measured (the pair failed, see events)' : undefined);
      results.push({ contender: c.id, metric: m.id, reps: r, ...(s ? { skipped: s } : {}) });
    }
  }
  const summary = summarize(results, BASELINE);
  return {
    schema: 1,
    date,
    mode: opts.quick ? 'quick' : 'full',
    options: { contenders: opts.contenders, scenarios: opts.scenarios, reps: opts.reps, idleSeconds: opts.idleSeconds, idleWarmupSeconds: opts.idleWarmupSeconds ?? 0 },
    method: {
      probeIntervalMs: S.PROBE_MS,
      probeTimeoutMs: S.PROBE_TIMEOUT_MS,
      holderSampleMs: S.HOLDER_SAMPLE_MS,
      afterMoveWatchedMs: S.AFTER_MS,
      steadyMs: S.STEADY_MS,
      scaleProbeMinIntervalMs: S.SCALE_ROUND_MS,
      scaleProbeRelativeInterval: S.SCALE_RELATIVE,
      scaleProbeTimeoutMs: S.SCALE_PROBE_TIMEOUT_MS,
      scaleVips: SCALE_VIPS.length,
      hosts: HOSTS.join(', '),
      vip: VIP,
      baseline: BASELINE,
    },
    machine,
    durationS: Math.round((performance.now() - t0) / 1000),
    contenders,
    results,
    summary,
    targets: checkTargets(summary, 'ours-defaults', BASELINE),
    events,
  };
}

export interface Written {
  json: string;
  svg: string;
  md: string;
  png: string | null;
}

/** The Markdown report: the table, the targets, the settings, the events. */
export function markdownReport(r: BenchResult): string {
  const baseline = r.contenders.find((c) => c.id === BASELINE)?.label ?? BASELINE;
  const m = r.machine as { nproc: number; memoryMb: number; kernel: string; cpu: string; versions?: Record<string, unknown> };
  const build = m.versions?.['heartbeat-sidecar build'] as { built: string | null; stale: boolean } | undefined;
  const ours = r.contenders.some((c) => c.id.startsWith('ours'));
  return [
    `## Failover benchmark (${r.mode}, ${r.options.reps} repetition${r.options.reps === 1 ? '' : 's'}, ${r.date})`,
    '',
    ...(ours && build?.stale ? [`**Warning: heartbeat-sidecar's dist/ (built ${build.built ?? 'never'}) was older than sidecar/src when this ran.**`, ''] : []),
    `Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryMb} MB, ${m.kernel}. Client probes every ${S.PROBE_MS} ms (timeout ${S.PROBE_TIMEOUT_MS} ms); run took ${r.durationS} s.`,
    '',
    ...(r.runs === undefined ? [] : [`Merged from ${r.runs.length} runs on this machine: ${r.runs.map((x) => `${x.date} (${x.contenders.join(', ')}; ${x.durationS} s)`).join('; ')}.`, '']),
    markdownTable(r.summary, r.contenders, baseline),
    '',
    ...(r.contenders.some((c) => c.id === 'ours-defaults') ? [targetsMarkdown(r.targets), ''] : []),
    'Contenders:',
    '',
    ...r.contenders.map((c) => `- **${c.label}** (\`${c.id}\`): ${c.settings}${c.skipped ? ` — skipped: ${c.skipped}` : ''}`),
    ...(r.events.length > 0 ? ['', 'Events:', '', ...r.events.map((e) => `- ${e}`)] : []),
    '',
  ].join('\n');
}

export function writeResults(measured: BenchResult, dir: string, base: string): Written {
  // reports are committed: no path of this machine goes into them
  const r = portable(measured);
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${base}.json`);
  const svg = path.join(dir, `${base}.svg`);
  const md = path.join(dir, `${base}.md`);
  fs.writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  fs.writeFileSync(md, markdownReport(r));
  const m = r.machine as { nproc: number; memoryMb: number; kernel: string };
  fs.writeFileSync(
    svg,
    svgChart({
      title: 'heartbeat-sidecar vs keepalived, Heartbeat 3, ucarp: failover as the client sees it',
      subtitle: `${r.mode} run, ${r.options.reps} repetition${r.options.reps === 1 ? '' : 's'} per scenario, ${r.date.slice(0, 16).replace('T', ' ')} UTC · ${m.nproc} CPUs, ${Math.round(m.memoryMb / 1024)} GB, ${m.kernel} · two hosts + client in network namespaces`,
      rows: r.summary,
      contenders: r.contenders,
      targets: r.contenders.some((c) => c.id === 'ours-defaults')
        ? {
            kill9: { value: 1000, label: 'target 1 s' },
            linkdown: { value: 1000, label: 'target 1 s' },
            graceful: { value: 100, label: 'target 100 ms' },
            failback: { value: 20, label: 'target 20 ms' },
            'idle-rss': { value: 55, label: 'target 55 MB' },
            'idle-cpu': { value: 0.5, label: 'target 0.5 %' },
            scale: { value: 2000, label: 'target 2 s' },
          }
        : {},
    }),
  );
  let png: string | null = path.join(dir, `${base}.png`);
  try {
    execFileSync('rsvg-convert', ['-o', png, svg], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    png = null; // optional: the SVG is the chart
  }
  return { json, svg, md, png };
}
