/**
 * The GARP script runs for real here, in `sh`, with a stand-in `arping` first on PATH that only
 * records its arguments: nothing is sent anywhere.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Vip } from '../domain/groups.js';
import { createArpingAnnouncer } from './announce.js';
import { spawnCommand, type RunCommand } from './command.js';

const vip = (address: string, family: 4 | 6 = 4): Vip => ({ address, prefixLength: family === 4 ? 24 : 64, iface: 'eth0', label: null, family });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbs-announce-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const log = path.join(dir, 'calls');
// records "<mode> <iface> <address> <time in ms>", and fails for 10.77.0.102
fs.writeFileSync(
  path.join(dir, 'arping'),
  `#!/bin/sh\necho "$2 $6 $7 $(date +%s%3N)" >> ${log}\n[ "$7" != 10.77.0.102 ]\n`,
  { mode: 0o755 },
);

/** spawnCommand with the stand-in arping first on PATH. */
const run: RunCommand = (file, args, input) => {
  const real = spawnCommand();
  const env = `PATH=${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return real('env', [env, file, ...args], input);
};

function calls(): Array<{ mode: string; iface: string; address: string; at: number }> {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' '))
    .map(([mode, iface, address, at]) => ({ mode: mode!, iface: iface!, address: address!, at: Number(at) }));
}

test('a burst is one request and one reply arping per VIP and round, rounds spaced apart, all from one sh', async () => {
  fs.rmSync(log, { force: true });
  const seen: string[] = [];
  const counting: RunCommand = (file, args, input) => {
    seen.push(file);
    return run(file, args, input);
  };
  const r = await createArpingAnnouncer(counting).announce([vip('10.77.0.100'), vip('10.77.0.101')], 3);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(seen, ['sh'], 'one process started from the daemon');
  const c = calls();
  assert.equal(c.length, 12);
  for (const address of ['10.77.0.100', '10.77.0.101']) {
    for (const mode of ['-U', '-A']) assert.equal(c.filter((x) => x.address === address && x.mode === mode && x.iface === 'eth0').length, 3, `${address} ${mode}`);
  }
  const times = c.map((x) => x.at).sort((a, b) => a - b);
  assert.ok(times.at(-1)! - times[0]! >= 90, `three rounds 50 ms apart span at least 100 ms, not ${times.at(-1)! - times[0]!}`);
});

test('the addresses whose arping failed are reported, each once; IPv6 VIPs are left to the kernel', async () => {
  fs.rmSync(log, { force: true });
  const r = await createArpingAnnouncer(run).announce([vip('10.77.0.101'), vip('10.77.0.102'), vip('fd00::100', 6)], 2);
  assert.deepEqual(r.failed, ['10.77.0.102']);
  assert.deepEqual([...new Set(calls().map((x) => x.address))].sort(), ['10.77.0.101', '10.77.0.102']);
});

test('nothing is started for no IPv4 VIP', async () => {
  let started = 0;
  const r = await createArpingAnnouncer(async () => (started++, { code: 0, stdout: '', stderr: '' })).announce([vip('fd00::1', 6)], 3);
  assert.deepEqual(r.failed, []);
  assert.equal(started, 0);
});
