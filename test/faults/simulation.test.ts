/**
 * The seeded fault simulation (sidecar/src/engine/simulate.ts) over 10,000 seeds, split across
 * two processes for this 2-core machine. A seed's schedule depends on the generator, so the bugs
 * seeds found are kept as explicit scenarios in sidecar/src/engine/engine.test.ts instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const SEEDS = Number(process.env.HB_SIM_SEEDS ?? 10_000);
const WORKERS = 2;

function runSeeds(from: number, count: number): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'sidecar/src/engine/simulate.ts', '--seeds', String(count), '--from', String(from)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
  });
}

test(`${SEEDS} seeds: never two holders once settled, always one holder when settled, no flapping`, { timeout: 240_000 }, async () => {
  const per = Math.ceil(SEEDS / WORKERS);
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => runSeeds(1 + i * per, Math.min(per, SEEDS - i * per))));
  const failures = results.flatMap((r) => r.out.split('\n').filter((l) => l.startsWith('seed ')));
  const summaries = results.map((r) => r.out.trim().split('\n').at(-1));
  assert.deepEqual(failures, [], `failing seeds:\n${failures.join('\n')}`);
  assert.ok(results.every((r) => r.code === 0), summaries.join('\n'));
  const ran = summaries.reduce((n, s) => n + Number(/^(\d+) passed/.exec(s ?? '')?.[1] ?? 0), 0);
  assert.equal(ran, SEEDS);
});
