/**
 * `npm run bench`: the failover benchmark (see bench.ts). Needs root and the lab's tools.
 *
 *   npm run bench                               every contender, every scenario, 5 repetitions
 *   npm run bench -- --quick                    1 repetition of kill -9, SIGTERM and a 10 s idle window
 *   npm run bench -- --only keepalived-defaults --only ours-defaults --reps 7
 *   npm run bench -- --scenarios kill9,graceful --idle-seconds 60 --out /tmp/bench
 *   npm run bench -- --scenarios idle --idle-warmup 45   the idle window opens 45 s after the pair settles
 *   npm run bench -- --from-json test/bench/results/latest.json   (re-render only)
 *   npm run bench -- --from-json peers.json --from-json ours.json --name latest
 *       (merge runs of different contenders into one report; a later file's contender wins)
 *
 * Prints the Markdown table on stdout (progress goes to stderr) and writes <out>/<name>.json
 * (raw per-repetition figures and machine info), .md, .svg and, when rsvg-convert is installed,
 * .png. <name> is `latest` for a full run and `quick` for --quick, so CI never overwrites the
 * published results.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labUnavailable } from '../lab/guard.js';
import { ALL_SCENARIOS, buildFreshness, markdownReport, ORDER, QUICK_SCENARIOS, runBench, writeResults, type BenchResult, type Scenario } from './bench.js';
import { BASELINE } from './contenders.js';
import { checkTargets, summarize } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    reps: { type: 'string' },
    scenarios: { type: 'string' },
    'idle-seconds': { type: 'string' },
    'idle-warmup': { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    'from-json': { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(`usage: npm run bench -- [--quick] [--only ID]... [--reps N] [--scenarios LIST] [--idle-seconds S] [--idle-warmup S] [--out DIR] [--name BASE]
       npm run bench -- --from-json FILE [--from-json FILE]... [--out DIR] [--name BASE]
contenders: ${ORDER.join(', ')}
scenarios:  ${ALL_SCENARIOS.join(', ')} (quick: ${QUICK_SCENARIOS.join(', ')})
`);
  process.exit(0);
}

if (values['from-json'] !== undefined) {
  // re-render the table, report and chart from raw results, measuring nothing
  const files = values['from-json'];
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as BenchResult);
  const merged = runs.reduce((a, b) => mergeRuns(a, b));
  const summary = summarize(merged.results, BASELINE);
  const again: BenchResult = { ...merged, summary, targets: checkTargets(summary, 'ours-defaults', BASELINE) };
  const last = files.at(-1)!;
  const w = writeResults(again, values.out ?? path.dirname(last), values.name ?? path.basename(last, '.json'));
  process.stdout.write(`${markdownReport(again)}\n`);
  process.stderr.write(`chart: ${w.svg}${w.png ? ` (and ${w.png})` : ''}\n`);
  process.exit(0);
}

/**
 * Two runs as one: b's contenders replace a's of the same id, the rest are kept, in roster
 * order. Both runs' dates and machines are kept in `runs`, so a merged report says so.
 */
function mergeRuns(a: BenchResult, b: BenchResult): BenchResult {
  const ids = new Set(b.contenders.map((c) => c.id));
  const contenders = [...a.contenders.filter((c) => !ids.has(c.id)), ...b.contenders].sort((x, y) => ORDER.indexOf(x.id) - ORDER.indexOf(y.id));
  const results = [...a.results.filter((r) => !ids.has(r.contender)), ...b.results];
  const runs = [...(a.runs ?? [{ date: a.date, contenders: a.contenders.map((c) => c.id), durationS: a.durationS }]), { date: b.date, contenders: b.contenders.map((c) => c.id), durationS: b.durationS }];
  return { ...b, contenders, results, runs, durationS: a.durationS + b.durationS, events: [...a.events, ...b.events], options: { ...b.options, contenders: contenders.map((c) => c.id) } };
}

const why = labUnavailable();
if (why !== null) {
  process.stderr.write(`bench: cannot run here: ${why}\n`);
  process.exit(2);
}

const list = (v: string[] | undefined): string[] => (v ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
const contenders = list(values.only);
for (const c of contenders) {
  if (!ORDER.includes(c)) {
    process.stderr.write(`bench: unknown contender ${c} (known: ${ORDER.join(', ')})\n`);
    process.exit(2);
  }
}
const scenarios = values.scenarios ? (list([values.scenarios]) as Scenario[]) : values.quick ? QUICK_SCENARIOS : ALL_SCENARIOS;
for (const s of scenarios) {
  if (!ALL_SCENARIOS.includes(s)) {
    process.stderr.write(`bench: unknown scenario ${s} (known: ${ALL_SCENARIOS.join(', ')})\n`);
    process.exit(2);
  }
}
const reps = values.reps !== undefined ? Number(values.reps) : values.quick ? 1 : 5;
const idleSeconds = values['idle-seconds'] !== undefined ? Number(values['idle-seconds']) : values.quick ? 10 : 60;
const idleWarmupSeconds = values['idle-warmup'] !== undefined ? Number(values['idle-warmup']) : 0;
if (!(Number.isInteger(reps) && reps >= 1) || !(idleSeconds >= 1) || !(idleWarmupSeconds >= 0)) {
  process.stderr.write('bench: --reps must be a whole number ≥ 1, --idle-seconds ≥ 1, --idle-warmup ≥ 0\n');
  process.exit(2);
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
if (chosenHasOurs()) {
  const b = buildFreshness();
  if (b.stale) log(`WARNING: dist/ ${b.built === null ? 'is missing' : `(built ${b.built}) is older than sidecar/src`}: run \`npx tsc -p tsconfig.json\` first, or the old build is measured`);
}
function chosenHasOurs(): boolean {
  return (contenders.length > 0 ? contenders : ORDER).some((c) => c.startsWith('ours'));
}
// keep the contenders in roster order (so the chart and table always read the same way)
const chosen = contenders.length > 0 ? ORDER.filter((c) => contenders.includes(c)) : ORDER;
const result = await runBench({ contenders: chosen, scenarios: ALL_SCENARIOS.filter((s) => scenarios.includes(s)), reps, idleSeconds, idleWarmupSeconds, quick: values.quick ?? false, log });
const written = writeResults(result, values.out ?? path.join(HERE, 'results'), values.name ?? (values.quick ? 'quick' : 'latest'));
process.stdout.write(`${markdownReport(result)}\n`);
log(`raw results: ${written.json}\nchart: ${written.svg}${written.png ? ` (and ${written.png})` : ''}\nreport: ${written.md}`);
