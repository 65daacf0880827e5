/** The benchmark's statistics, ratios, targets, table and chart, on made-up figures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTargets, markdownTable, median, portable, stats, summarize, svgChart, withoutMachinePaths, type MetricResult } from './report.js';

const reps = (...vs: Array<number | null>) => vs.map((value, rep) => ({ rep, value, ...(value === null ? { error: 'x' } : {}) }));

test('median, min, max; failed repetitions are counted, not averaged', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.deepEqual(stats(reps(300, null, 100, 200)), { n: 3, failed: 1, median: 200, min: 100, max: 300 });
  assert.equal(stats(reps(null)), null);
});

const results: MetricResult[] = [
  { contender: 'keepalived-defaults', metric: 'kill9', reps: reps(3000, 3200, 3400) },
  { contender: 'ours-defaults', metric: 'kill9', reps: reps(900, 1000, 1100) },
  { contender: 'ours-defaults', metric: 'linkdown', reps: reps(1200, 1250, 1300) },
  { contender: 'keepalived-defaults', metric: 'linkdown', reps: reps(3000) },
  { contender: 'ours-defaults', metric: 'graceful', reps: reps(40, 60, 50) },
  { contender: 'ours-defaults', metric: 'graceful-double', reps: reps(0, 0, 1) },
  { contender: 'ours-defaults', metric: 'idle-rss', reps: reps(50, 54, 56) },
  { contender: 'ours-defaults', metric: 'idle-cpu', reps: reps(0.4, 0.5, 0.9) },
  { contender: 'ours-tuned', metric: 'kill9', reps: reps(190, 260, 240) },
  { contender: 'ucarp', metric: 'failback', reps: [], skipped: 'no failback at these settings' },
];

test('each figure is divided by the baseline median', () => {
  const rows = summarize(results, 'keepalived-defaults');
  const ours = rows.find((r) => r.contender === 'ours-defaults' && r.metric === 'kill9')!;
  assert.deepEqual(ours.ratio, { median: 1000 / 3200, min: 900 / 3200, max: 1100 / 3200 });
  assert.equal(rows.find((r) => r.metric === 'graceful')!.ratio.median, null, 'no baseline, no ratio');
  assert.equal(rows.find((r) => r.contender === 'ucarp')!.skipped, 'no failback at these settings');
});

test('targets: met, missed by how much, or not measured', () => {
  const checks = checkTargets(summarize(results, 'keepalived-defaults'), 'ours-defaults', 'keepalived-defaults');
  const get = (s: string) => checks.find((c) => c.target.startsWith(s))!;
  assert.equal(get('kill9: median ≤ 1.0 s').met, true);
  assert.equal(get('kill9: median ≤ 0.3').met, false);
  assert.match(get('kill9: median ≤ 0.3').miss!, /0\.01× over/);
  assert.equal(get('linkdown: median ≤ 1.0 s').met, false);
  assert.match(get('linkdown: median ≤ 1.0 s').miss!, /250 ms over \(25 %\)/);
  assert.equal(get('graceful handover: median').met, true);
  assert.equal(get('graceful handover: zero').met, false, 'one double-holder sample in any repetition misses it');
  assert.equal(get('idle RSS').met, false, 'the max counts: one repetition at 56 MB misses 55');
  assert.equal(get('idle CPU').met, true, 'the median counts');
  assert.equal(get('tuned kill -9').met, true);
  assert.equal(get('failback').met, null, 'not measured');
});

test('the table has a row per scenario and contender, with ratios; the chart is one well-formed SVG', () => {
  const contenders = [
    { id: 'ours-defaults', label: 'ours', settings: '' },
    { id: 'keepalived-defaults', label: 'keepalived', settings: '' },
    { id: 'ucarp', label: 'ucarp & co <x>', settings: '' },
  ];
  const rows = summarize(results, 'keepalived-defaults');
  const md = markdownTable(rows, contenders, 'keepalived');
  assert.match(md, /\| Hard failure: kill -9 of the active daemon — .* \| ours \| 3 \| 1\.00 s \(0\.31×\) \| 900 ms \(0\.28×\) \| 1\.10 s \(0\.34×\) \|/);
  assert.match(md, /\| ucarp & co <x> \| 0 \| no failback at these settings \|/);
  const svg = svgChart({ title: 't', subtitle: 's', rows, contenders, targets: { kill9: { value: 1000, label: 'target 1 s' } } });
  assert.match(svg, /^<svg [^>]*>/);
  assert.match(svg, /<\/svg>$/);
  assert.match(svg, /ucarp &amp; co &lt;x&gt;/, 'labels are escaped');
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  assert.match(svg, /target 1 s/);
});

test('reports carry no path of the machine that ran them', () => {
  const error = 'multiprober not ready, see /tmp/hbs-29149-3l-bench-scale-CoyJiP/logs/multiprober-cookbook-17.log';
  assert.equal(withoutMachinePaths(error), 'multiprober not ready, see …/multiprober-cookbook-17.log');
  assert.equal(withoutMachinePaths('see /var/cache/hbs-images/build-1.log and /home/ci/x.log.'), 'see …/build-1.log and …/x.log.');
  assert.equal(withoutMachinePaths('keepalived 2.2.7, 10.77.0.100/24, 1/2 failed'), 'keepalived 2.2.7, 10.77.0.100/24, 1/2 failed');
  const report = { events: [`ours kill9 #2 failed: ${error}`], results: [{ reps: [{ rep: 0, value: null, error }] }], n: 5 };
  assert.deepEqual(portable(report), {
    events: ['ours kill9 #2 failed: multiprober not ready, see …/multiprober-cookbook-17.log'],
    results: [{ reps: [{ rep: 0, value: null, error: 'multiprober not ready, see …/multiprober-cookbook-17.log' }] }],
    n: 5,
  });
});
