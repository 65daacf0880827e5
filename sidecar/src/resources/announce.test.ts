import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vip } from '../config/types.js';
import { createArpingAnnouncer } from './announce.js';
import type { RunCommand } from './command.js';

const V4: Vip = { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 };

function fakeRun(n: number): { run: RunCommand; calls: { args: readonly string[] }[] } {
  const calls: { args: readonly string[] }[] = [];
  let left = n;
  const run: RunCommand = async (_file, args) => {
    calls.push({ args });
    assert.ok(left-- > 0, 'more arping calls than expected');
    return { code: 0, stdout: '', stderr: '' };
  };
  return { run, calls };
}

test('a GARP burst is one request and one reply arping per announcement, spaced apart', async () => {
  const { run, calls } = fakeRun(6);
  const waits: number[] = [];
  await createArpingAnnouncer(run, async (ms) => void waits.push(ms)).announce(V4, 3);
  assert.deepEqual(waits, [50, 50]);
  assert.deepEqual(
    calls.map((c) => c.args.join(' ')),
    Array.from({ length: 3 }, () => ['-q -U -c 1 -I eth0 10.77.0.100', '-q -A -c 1 -I eth0 10.77.0.100']).flat(),
  );
});
