/**
 * Keeps the benchmark from rotting: `npm run bench -- --quick` for heartbeat-sidecar's native
 * defaults and keepalived at defaults, through the real command line, then checks that every
 * figure exists and is sane. Generous bounds only: targets are the full run's business
 * (`npm run bench`), and a CI machine is no benchmark machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireLab } from '../lab/guard.js';
import { listNetns } from '../lab/netns.js';
import type { BenchResult } from './bench.js';
import { CONTENDERS } from './contenders.js';
import type { MetricId } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const CONTENDER_IDS = ['ours-defaults', 'keepalived-defaults'];

/** Per metric: the figure must be finite and within [min, max]. */
const BOUNDS: Partial<Record<MetricId, [number, number]>> = {
  kill9: [1, 20_000],
  graceful: [1, 20_000],
  'graceful-double': [0, 10_000],
  'idle-rss': [0.5, 1024],
  'idle-cpu': [0, 200],
};

test('npm run bench -- --quick: figures for our defaults and keepalived defaults, raw JSON and chart', { timeout: 240_000 }, async (t) => {
  if (!requireLab(t)) return;
  for (const id of CONTENDER_IDS) {
    const why = CONTENDERS[id]!().unavailable();
    if (why === null) continue;
    if (process.env.CI === 'true') throw new Error(`bench contender ${id} cannot run in CI: ${why}`);
    t.skip(`${id}: ${why}`);
    return;
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hbs-bench-test-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));

  const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'run.ts'), '--quick', ...CONTENDER_IDS.flatMap((c) => ['--only', c]), '--out', out], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.diagnostic(stderr.trim());
  assert.equal(code, 0, `bench exited with ${code}:\n${stderr}`);

  // what a user reads: the table on stdout, the files next to each other
  assert.match(stdout, /\| scenario \| contender \| n \| median \| min \| max \|/);
  for (const f of ['quick.json', 'quick.svg', 'quick.md']) assert.ok(fs.statSync(path.join(out, f)).size > 0, f);
  const svg = fs.readFileSync(path.join(out, 'quick.svg'), 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);

  const r = JSON.parse(fs.readFileSync(path.join(out, 'quick.json'), 'utf8')) as BenchResult;
  assert.equal(r.mode, 'quick');
  assert.equal(typeof r.machine['nproc'], 'number');
  assert.deepEqual(r.contenders.map((c) => c.id), CONTENDER_IDS);
  for (const c of r.contenders) assert.equal(c.skipped, undefined, `${c.id} skipped: ${c.skipped}`);
  for (const [metric, [lo, hi]] of Object.entries(BOUNDS) as Array<[MetricId, [number, number]]>) {
    for (const id of CONTENDER_IDS) {
      const res = r.results.find((x) => x.contender === id && x.metric === metric);
      assert.ok(res, `${id} ${metric}: no result`);
      assert.equal(res.skipped, undefined, `${id} ${metric}: ${res.skipped}`);
      assert.equal(res.reps.length, 1, `${id} ${metric}: one repetition`);
      const v = res.reps[0]!.value;
      assert.ok(v !== null && Number.isFinite(v), `${id} ${metric}: ${JSON.stringify(res.reps[0])}`);
      assert.ok(v >= lo && v <= hi, `${id} ${metric}: ${v} outside [${lo}, ${hi}]`);
    }
  }
  const ratio = r.summary.find((s) => s.contender === 'ours-defaults' && s.metric === 'kill9')?.ratio.median;
  assert.ok(ratio !== null && ratio !== undefined && Number.isFinite(ratio) && ratio > 0, 'kill -9 ratio to keepalived');
  assert.ok(r.targets.length > 0, 'targets evaluated');

  // everything the run made is gone again
  const pid = /^hbs-(\d+)-/;
  const leftovers = (await listNetns()).filter((ns) => ns.includes('bench') || (pid.test(ns) && Number(pid.exec(ns)![1]) === child.pid));
  assert.deepEqual(leftovers, []);
});
