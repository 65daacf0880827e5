import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABORTED, NOT_RUN, spawnCommand } from './command.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

test('a missing program is a result with code 127, never a throw', async () => {
  const reasons: string[] = [];
  const run = spawnCommand(5000, { onNotRun: (_f, r) => reasons.push(r) });
  const r = await run('/nonexistent/heartbeat-sidecar-no-such-program', []);
  assert.equal(r.code, NOT_RUN);
  assert.match(r.stderr, /ENOENT/);
  assert.equal(reasons.length, 1);
});

test('invalid arguments (a NUL byte) are a result, not a synchronous throw', async () => {
  const r = await spawnCommand()('true', ['a\u0000b']);
  assert.equal(r.code, NOT_RUN);
});

test('commands beyond the slots and the queue are refused at once', async () => {
  const run = spawnCommand(5000, { maxConcurrent: 1, maxQueued: 1 });
  const results = await Promise.all([run('true', []), run('true', []), run('true', [])]);
  assert.deepEqual(
    results.map((r) => r.code),
    [0, 0, NOT_RUN],
  );
  assert.match(results[2]!.stderr, /already wait/);
});

test('output beyond the limit is dropped', async () => {
  const r = await spawnCommand(5000, { maxOutputBytes: 10 })('sh', ['-c', 'printf %0100d 0']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.length, 10);
});

test('out of file descriptors (EMFILE): every command is a result and the process lives on', () => {
  // A child with a low descriptor limit fills its table, then runs commands; it must report them
  // as not run and exit 0 by itself, not die of an uncaught error event or a TypeError.
  const script = `
    import fs from 'node:fs';
    import { spawnCommand } from ${JSON.stringify(path.join(HERE, 'command.ts'))};
    const held = [];
    try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; }
    const run = spawnCommand(2000);
    const rs = await Promise.all(Array.from({ length: 5 }, () => run('true', [], 'input')));
    for (const fd of held.splice(0, 20)) fs.closeSync(fd);
    const after = await run('true', []);
    console.log(JSON.stringify({ codes: rs.map((r) => r.code), emfile: rs.every((r) => /EMFILE/.test(r.stderr)), after: after.code }));
  `;
  const r = spawnSync('prlimit', ['--nofile=64:64', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { codes: number[]; emfile: boolean; after: number };
  assert.deepEqual(out.codes, [NOT_RUN, NOT_RUN, NOT_RUN, NOT_RUN, NOT_RUN]);
  assert.ok(out.emfile);
  assert.equal(out.after, 0);
});

test('an abort kills the program and everything it started, and the result says so', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hb-abort-'));
  const pidFile = path.join(dir, 'pid');
  try {
    const run = spawnCommand(10_000);
    const controller = new AbortController();
    const running = run('sh', ['-c', `sleep 30 & echo $! > ${pidFile}; wait`], undefined, controller.signal);
    const started = performance.now();
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') {
      assert.ok(performance.now() - started < 5_000, 'the shell started its child');
      await new Promise((r) => setTimeout(r, 10));
    }
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    controller.abort();
    const result = await running;
    assert.equal(result.code, ABORTED);
    assert.ok(performance.now() - started < 5_000, 'did not wait for the sleep');
    // Killed with its shell; whoever inherits it reaps it a moment later, or it stays a zombie.
    const gone = (): boolean => {
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${grandchild}/status`, 'utf8'));
      } catch {
        return true;
      }
    };
    while (!gone()) {
      assert.ok(performance.now() - started < 5_000, 'the shell’s own child is gone too');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await run('true', [], undefined, controller.signal)).code, ABORTED, 'an aborted signal starts nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('input given as a function is made once the command has its slot, and one that throws runs nothing', async () => {
  const run = spawnCommand(10_000, { maxConcurrent: 1 });
  const holding = new AbortController();
  const first = run('sleep', ['30'], undefined, holding.signal);
  const made: string[] = [];
  const second = run('cat', [], () => {
    made.push('input');
    return 'lease 2\n';
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(made, [], 'not made while the command waits for a slot');
  holding.abort();
  assert.equal((await first).code, ABORTED);
  assert.equal((await second).stdout, 'lease 2\n');
  assert.deepEqual(made, ['input']);
  await assert.rejects(
    run('cat', [], () => {
      throw new Error('no lease left');
    }),
    /no lease left/,
  );
  assert.equal((await run('true', [])).code, 0, 'the slot was given back');
});
