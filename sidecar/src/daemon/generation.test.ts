import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MAX_GENERATION, nextGeneration } from './generation.js';

test('the generation rises on every start, even when the wall clock went back', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hbs-gen-'));
  const file = path.join(dir, 'state', 'generation-alpha');
  const first = await nextGeneration(file, 5_000);
  assert.deepEqual(first, { generation: 5_000, warning: null });
  const clockSetBack = await nextGeneration(file, 1_000);
  assert.equal(clockSetBack.generation, 5_001);
  const clockAhead = await nextGeneration(file, 9_000);
  assert.equal(clockAhead.generation, 9_000);
  assert.equal((await readFile(file, 'utf8')).trim(), '9000');
});

test('an unwritable state directory falls back to the wall clock with a warning', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hbs-gen-'));
  const blocker = path.join(dir, 'not-a-dir');
  await writeFile(blocker, 'x');
  const r = await nextGeneration(path.join(blocker, 'generation-alpha'), 7_000);
  assert.equal(r.generation, 7_000);
  assert.match(r.warning ?? '', /cannot keep the boot generation/);
});

test('a counter beyond what the wire carries is set aside: the wall clock starts again, and says so', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hbs-gen-'));
  const file = path.join(dir, 'generation-alpha');
  for (const junk of [String(2 ** 53), String(MAX_GENERATION), '99999999999999999999', 'x'.repeat(100), '-5', '1e20']) {
    await writeFile(file, `${junk}\n`);
    const r = await nextGeneration(file, 7_000);
    assert.equal(r.generation, 7_000, junk);
    assert.match(r.warning ?? '', /starting again from the wall clock/);
    assert.equal((await readFile(file, 'utf8')).trim(), '7000');
  }
  await writeFile(file, `${MAX_GENERATION - 1}\n`);
  assert.equal((await nextGeneration(file, 7_000)).generation, MAX_GENERATION);
  assert.ok(Number.isSafeInteger(MAX_GENERATION));
});

test('a FIFO in place of the counter neither hangs nor is written through', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hbs-gen-'));
  const file = path.join(dir, 'generation-alpha');
  spawnSync('mkfifo', [file]);
  const r = await nextGeneration(file, 7_000);
  assert.equal(r.generation, 7_000);
  assert.match(r.warning ?? '', /not a regular file/);
});
