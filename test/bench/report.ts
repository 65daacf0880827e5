/**
 * Pure presentation of benchmark results: statistics, the Markdown table, the targets of
 * heartbeat-sidecar's native defaults, and a hand-written SVG chart. No I/O.
 */
import type { Rep } from './scenarios.js';

export type MetricId = 'kill9' | 'linkdown' | 'graceful' | 'graceful-double' | 'failback' | 'scale' | 'idle-rss' | 'idle-cpu';

export interface MetricDef {
  readonly id: MetricId;
  /** Short name (table, chart panel). */
  readonly title: string;
  /** What exactly is measured. */
  readonly what: string;
  readonly unit: 'ms' | 'MB' | '%' | 'samples';
  /** Time-like figures span 10 ms to minutes: the chart uses a log axis for them. */
  readonly log: boolean;
}

export const METRICS: readonly MetricDef[] = [
  { id: 'kill9', title: 'Hard failure: kill -9 of the active daemon', what: 'fault → first answer from the standby', unit: 'ms', log: true },
  { id: 'linkdown', title: "Hard failure: active host's link down", what: 'fault → first answer from the standby', unit: 'ms', log: true },
  { id: 'graceful', title: 'Graceful stop (SIGTERM) of the active daemon', what: 'longest gap between answers', unit: 'ms', log: true },
  { id: 'graceful-double', title: 'Graceful stop: both hosts held the VIP', what: 'samples (every 5 ms) with the VIP on both hosts', unit: 'samples', log: false },
  { id: 'failback', title: 'Failback: the preferred node returns', what: 'longest gap between answers', unit: 'ms', log: true },
  { id: 'scale', title: 'Scale: 100 VIPs, kill -9 of the active daemon', what: 'fault → all 100 answer from the standby', unit: 'ms', log: true },
  { id: 'idle-rss', title: 'Idle memory of the active daemon', what: 'max RSS over the idle window, summed over its processes', unit: 'MB', log: false },
  { id: 'idle-cpu', title: 'Idle CPU of the active daemon', what: 'CPU time / wall time over the window, incl. its helpers', unit: '%', log: false },
];

export interface MetricResult {
  readonly contender: string;
  readonly metric: MetricId;
  readonly reps: readonly Rep[];
  /** Why the metric was not measured (not supported, a tool missing, the daemon failed…). */
  readonly skipped?: string;
}

export interface Stats {
  readonly n: number;
  readonly failed: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Reports are committed and read on other machines, where a log path such as
 * `/tmp/hbs-29149-3l-bench-…/logs/multiprober-cookbook-1795602478532.log` points nowhere and only
 * shows this machine's layout. Each absolute path under a scratch, cache, runtime or home
 * directory becomes `…/` and its file name, which still says which process's log it was; the
 * harness prints the full paths on stderr while it runs.
 */
const MACHINE_PATH = /(?<![\w.~-])\/(?:tmp|var\/tmp|var\/cache|var\/lib|run|root|home)\/[^\s'"`,;()[\]{}<>]+/g;

export function withoutMachinePaths(text: string): string {
  return text.replace(MACHINE_PATH, (p) => `…/${p.split('/').filter(Boolean).at(-1) ?? ''}`);
}

/** A copy of a JSON-shaped value with `withoutMachinePaths` applied to every string in it. */
export function portable<T>(value: T): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return withoutMachinePaths(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function stats(reps: readonly Rep[]): Stats | null {
  const vs = reps.map((r) => r.value).filter((v): v is number => v !== null && Number.isFinite(v));
  if (vs.length === 0) return null;
  return { n: vs.length, failed: reps.length - vs.length, median: median(vs), min: Math.min(...vs), max: Math.max(...vs) };
}

export interface ContenderInfo {
  readonly id: string;
  readonly label: string;
  readonly settings: string;
  readonly skipped?: string;
}

export interface SummaryRow {
  readonly contender: string;
  readonly metric: MetricId;
  readonly stats: Stats | null;
  readonly skipped?: string;
  /** Each figure divided by the baseline's median for the same metric; null without one. */
  readonly ratio: { median: number | null; min: number | null; max: number | null };
}

export function summarize(results: readonly MetricResult[], baseline: string): SummaryRow[] {
  const base = new Map<MetricId, number>();
  for (const r of results) {
    const s = r.contender === baseline ? stats(r.reps) : null;
    if (s !== null && s.median > 0) base.set(r.metric, s.median);
  }
  return results.map((r) => {
    const s = r.skipped ? null : stats(r.reps);
    const b = base.get(r.metric);
    const div = (x: number | undefined): number | null => (x === undefined || b === undefined ? null : x / b);
    return { contender: r.contender, metric: r.metric, stats: s, ...(r.skipped ? { skipped: r.skipped } : {}), ratio: { median: div(s?.median), min: div(s?.min), max: div(s?.max) } };
  });
}

export function formatValue(v: number, unit: MetricDef['unit']): string {
  switch (unit) {
    case 'ms':
      return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(0)} ms`;
    case 'MB':
      return `${v.toFixed(1)} MB`;
    case '%':
      return `${v < 0.1 ? v.toFixed(3) : v.toFixed(2)} %`;
    case 'samples':
      return `${v}`;
  }
}

const fmtRatio = (r: number | null): string => (r === null ? '' : ` (${r < 0.1 ? r.toFixed(3) : r < 10 ? r.toFixed(2) : r.toFixed(0)}×)`);

/** One Markdown table: a row per scenario and contender; each figure with its ratio to the baseline. */
export function markdownTable(rows: readonly SummaryRow[], contenders: readonly ContenderInfo[], baselineLabel: string): string {
  const label = new Map(contenders.map((c) => [c.id, c.label]));
  const out = [
    `Figures: median, min and max over the repetitions; in parentheses each one's ratio to the median of ${baselineLabel} (lower is better everywhere).`,
    '',
    '| scenario | contender | n | median | min | max |',
    '|---|---|---:|---:|---:|---:|',
  ];
  for (const m of METRICS) {
    for (const r of rows.filter((x) => x.metric === m.id)) {
      const name = label.get(r.contender) ?? r.contender;
      const scen = `${m.title} — ${m.what}`;
      if (r.stats === null) {
        out.push(`| ${scen} | ${name} | 0 | ${r.skipped ?? 'failed'} | | |`);
        continue;
      }
      const s = r.stats;
      const n = s.failed > 0 ? `${s.n} (+${s.failed} failed)` : `${s.n}`;
      out.push(`| ${scen} | ${name} | ${n} | ${formatValue(s.median, m.unit)}${fmtRatio(r.ratio.median)} | ${formatValue(s.min, m.unit)}${fmtRatio(r.ratio.min)} | ${formatValue(s.max, m.unit)}${fmtRatio(r.ratio.max)} |`);
    }
  }
  return out.join('\n');
}

// ---- targets --------------------------------------------------------------------------------

export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  /** null when it could not be measured. */
  readonly met: boolean | null;
  /** How far off, when missed. */
  readonly miss?: string;
}

/** The issues' targets for heartbeat-sidecar's native defaults, and its tuned timing's kill -9. */
export function checkTargets(rows: readonly SummaryRow[], ours: string, baseline: string, tuned = 'ours-tuned'): TargetCheck[] {
  const get = (c: string, m: MetricId) => rows.find((r) => r.contender === c && r.metric === m)?.stats ?? null;
  const out: TargetCheck[] = [];
  const upper = (target: string, s: Stats | null, limit: number, unit: MetricDef['unit'], pick: (s: Stats) => number = (x) => x.median): void => {
    if (s === null) return void out.push({ target, measured: 'not measured', met: null });
    const v = pick(s);
    const met = v <= limit;
    out.push({ target, measured: formatValue(v, unit), met, ...(met ? {} : { miss: `${formatValue(v - limit, unit)} over (${((100 * (v - limit)) / limit).toFixed(0)} %)` }) });
  };
  for (const m of ['kill9', 'linkdown'] as const) {
    const s = get(ours, m);
    const b = get(baseline, m);
    upper(`${m}: median ≤ 1.0 s`, s, 1000, 'ms');
    if (s === null || b === null) out.push({ target: `${m}: median ≤ 0.3 × keepalived defaults`, measured: 'not measured', met: null });
    else {
      const ratio = s.median / b.median;
      out.push({ target: `${m}: median ≤ 0.3 × keepalived defaults`, measured: `${ratio.toFixed(2)}× (${formatValue(s.median, 'ms')} vs ${formatValue(b.median, 'ms')})`, met: ratio <= 0.3, ...(ratio <= 0.3 ? {} : { miss: `${(ratio - 0.3).toFixed(2)}× over` }) });
    }
  }
  upper('graceful handover: median ≤ 100 ms', get(ours, 'graceful'), 100, 'ms');
  upper('graceful handover: zero double-holder samples', get(ours, 'graceful-double'), 0, 'samples', (x) => x.max);
  upper('failback: median ≤ 20 ms', get(ours, 'failback'), 20, 'ms');
  upper('idle RSS ≤ 55 MB, max over the repetitions', get(ours, 'idle-rss'), 55, 'MB', (x) => x.max);
  upper('idle CPU ≤ 0.5 %', get(ours, 'idle-cpu'), 0.5, '%');
  upper('tuned kill -9: median ≤ 250 ms', get(tuned, 'kill9'), 250, 'ms');
  upper('100 VIPs, kill -9: median ≤ 2 s', get(ours, 'scale'), 2000, 'ms');
  return out;
}

export function targetsMarkdown(checks: readonly TargetCheck[]): string {
  const mark = (m: boolean | null): string => (m === null ? '—' : m ? 'met' : '**missed**');
  return ['| target (heartbeat-sidecar native defaults) | measured | result |', '|---|---:|---|', ...checks.map((c) => `| ${c.target} | ${c.measured} | ${mark(c.met)}${c.miss ? `: ${c.miss}` : ''} |`)].join('\n');
}

// ---- the chart ------------------------------------------------------------------------------

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly rows: readonly SummaryRow[];
  readonly contenders: readonly ContenderInfo[];
  /** Dashed target lines, per metric. */
  readonly targets?: Partial<Record<MetricId, { value: number; label: string }>>;
}

const PALETTE: Record<string, string> = {
  'ours-defaults': '#1f6feb',
  'ours-tuned': '#0a9396',
  'ours-recipe': '#74a9e8',
  'keepalived-defaults': '#e36209',
  'keepalived-tuned': '#f4a261',
  heartbeat3: '#8250df',
  ucarp: '#6e7781',
};
const EXTRA = ['#2a9d8f', '#e76f51', '#264653', '#bc4749'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Tick values for an axis over [lo, hi]; a log axis gets 1-2-5 steps. */
function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const k of [1, 2, 5]) out.push(k * 10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const raw = hi / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let t = 0; t <= hi + 1e-9; t += step) out.push(Math.round(t * 1e6) / 1e6);
  return out;
}

function axisLabel(v: number, unit: MetricDef['unit']): string {
  if (unit === 'ms') return v >= 1000 ? `${v / 1000} s` : `${v} ms`;
  if (unit === '%') return `${v} %`;
  if (unit === 'MB') return `${v}`;
  return `${v}`;
}

/**
 * Small multiples: one panel per scenario, one horizontal bar per contender (median), a whisker
 * from min to max, the median printed beside it. Time panels use a log axis.
 */
export function svgChart(input: ChartInput): string {
  const W = 1280;
  const cols = 2;
  const margin = 24;
  const colW = (W - margin * (cols + 1)) / cols;
  const labelW = 190;
  const valueW = 92;
  const rowH = 24;
  const ids = input.contenders.map((c) => c.id);
  const colour = (id: string, i: number): string => PALETTE[id] ?? EXTRA[i % EXTRA.length]!;
  const label = new Map(input.contenders.map((c) => [c.id, c.label]));
  const panelH = 54 + ids.length * rowH + 30;
  const headerH = 86;
  const panels = METRICS.filter((m) => input.rows.some((r) => r.metric === m.id));
  const H = headerH + Math.ceil(panels.length / cols) * (panelH + margin) + 40;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${margin}" y="36" font-size="22" font-weight="bold" fill="#1f2328">${esc(input.title)}</text>`);
  parts.push(`<text x="${margin}" y="60" font-size="13" fill="#57606a">${esc(input.subtitle)}</text>`);
  parts.push(`<text x="${margin}" y="78" font-size="12" fill="#57606a">Bar: median · whisker: min–max · lower is better in every panel · time axes are logarithmic</text>`);

  panels.forEach((m, pi) => {
    const x0 = margin + (pi % cols) * (colW + margin);
    const y0 = headerH + Math.floor(pi / cols) * (panelH + margin);
    const plotX = x0 + labelW;
    const plotW = colW - labelW - valueW;
    const rows = ids.map((id) => input.rows.find((r) => r.metric === m.id && r.contender === id));
    const vals = rows.flatMap((r) => (r?.stats ? [r.stats.min, r.stats.max, r.stats.median] : []));
    const target = input.targets?.[m.id];
    if (target) vals.push(target.value);
    parts.push(`<rect x="${x0}" y="${y0}" width="${colW}" height="${panelH}" rx="6" fill="#f6f8fa" stroke="#d0d7de"/>`);
    parts.push(`<text x="${x0 + 12}" y="${y0 + 22}" font-size="15" font-weight="bold" fill="#1f2328">${esc(m.title)}</text>`);
    parts.push(`<text x="${x0 + 12}" y="${y0 + 40}" font-size="12" fill="#57606a">${esc(m.what)} (${m.unit})</text>`);
    const top = y0 + 52;
    const log = m.log && vals.every((v) => v > 0) && vals.length > 0;
    let lo: number;
    let hi: number;
    if (vals.length === 0) {
      lo = log ? 1 : 0;
      hi = 1;
    } else if (log) {
      lo = 10 ** Math.floor(Math.log10(Math.min(...vals)));
      hi = 10 ** Math.ceil(Math.log10(Math.max(...vals)));
      if (hi === lo) hi = lo * 10;
    } else {
      lo = 0;
      const mx = Math.max(...vals);
      hi = mx <= 0 ? 1 : (() => {
        const t = ticks(0, mx * 1.05, false);
        return t.at(-1)! >= mx * 1.05 ? t.at(-1)! : t.at(-1)! + (t[1]! - t[0]!);
      })();
    }
    const sx = (v: number): number => {
      const f = log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
      return plotX + Math.max(0, Math.min(1, f)) * plotW;
    };
    const bottom = top + ids.length * rowH;
    const decades = log ? Math.log10(hi / lo) : 0;
    for (const t of ticks(lo, hi, log)) {
      const x = sx(t);
      const major = !log || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 4}" x2="${x.toFixed(1)}" y2="${bottom + 2}" stroke="${major ? '#c8d1da' : '#e4e9ee'}" stroke-width="1"/>`);
      // with many decades only the powers of ten are labelled, or the labels collide
      if (major || decades <= 3) parts.push(`<text x="${x.toFixed(1)}" y="${bottom + 17}" font-size="11" fill="#57606a" text-anchor="middle">${esc(axisLabel(t, m.unit))}</text>`);
    }
    rows.forEach((r, i) => {
      const id = ids[i]!;
      const cy = top + i * rowH + rowH / 2;
      const name = label.get(id) ?? id;
      const isOurs = id.startsWith('ours');
      parts.push(`<text x="${plotX - 8}" y="${cy + 4}" font-size="12" text-anchor="end" fill="#1f2328"${isOurs ? ' font-weight="bold"' : ''}>${esc(name)}</text>`);
      if (!r?.stats) {
        const why = r?.skipped ?? 'not run';
        parts.push(`<text x="${plotX + 4}" y="${cy + 4}" font-size="11" font-style="italic" fill="#8c959f">${esc(why.length > 60 ? `${why.slice(0, 57)}…` : why)}</text>`);
        return;
      }
      const s = r.stats;
      const xm = sx(s.median);
      const c = colour(id, i);
      parts.push(`<rect x="${plotX}" y="${(cy - 8).toFixed(1)}" width="${Math.max(1.5, xm - plotX).toFixed(1)}" height="16" rx="2" fill="${c}"/>`);
      const [xa, xb] = [sx(s.min), sx(s.max)];
      parts.push(`<line x1="${xa.toFixed(1)}" y1="${cy}" x2="${xb.toFixed(1)}" y2="${cy}" stroke="#1f2328" stroke-width="1.5"/>`);
      for (const x of [xa, xb]) parts.push(`<line x1="${x.toFixed(1)}" y1="${cy - 5}" x2="${x.toFixed(1)}" y2="${cy + 5}" stroke="#1f2328" stroke-width="1.5"/>`);
      const txt = formatValue(s.median, m.unit) + (s.failed > 0 ? ` (${s.failed} failed)` : '');
      parts.push(`<text x="${(Math.max(xb, xm) + 6).toFixed(1)}" y="${cy + 4}" font-size="11.5" fill="#1f2328"${isOurs ? ' font-weight="bold"' : ''}>${esc(txt)}</text>`);
    });
    if (target) {
      const x = sx(target.value);
      parts.push(`<line x1="${x.toFixed(1)}" y1="${top - 6}" x2="${x.toFixed(1)}" y2="${bottom + 2}" stroke="#cf222e" stroke-width="1.5" stroke-dasharray="5,4"/>`);
      parts.push(`<text x="${(x + 4).toFixed(1)}" y="${top - 6}" font-size="10.5" fill="#cf222e">${esc(target.label)}</text>`);
    }
  });
  parts.push(`<text x="${margin}" y="${H - 14}" font-size="11" fill="#8c959f">Dashed red: targets of heartbeat-sidecar's native defaults. Raw figures: latest.json next to this chart.</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
