/**
 * `npm run soak`: both daemons under 10% heartbeat loss with a CPU hog busy on one core, for
 * HB_SOAK_SECONDS (default 600). Prints transitions (each is a false failover here) and each
 * daemon's RSS growth after warm-up; exits non-zero on any transition or growth of 5% or more.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createLab } from '../lab/netns.js';
import { labUnavailable } from '../lab/guard.js';
import { nativeYaml, startSidecar, transitionCount, waitHolders, waitReady } from '../lab/sidecar.js';

const SECONDS = Number(process.env.HB_SOAK_SECONDS ?? 600);
const WARMUP_MS = 30_000;
const HOSTS = ['alpha', 'beta'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

const why = labUnavailable();
if (why !== null) throw new Error(`soak cannot run: ${why}`);
const lab = await createLab({ hosts: HOSTS, name: 'soak' });
let failed = false;
try {
  const config = path.join(lab.dir, 'sidecar.yaml');
  fs.writeFileSync(config, nativeYaml(lab, HOSTS));
  const daemons = HOSTS.map((h) => startSidecar(lab, h, ['--config', config]));
  await Promise.all(HOSTS.map((h) => waitReady(lab, h)));
  await waitHolders(lab, ['alpha'], 15_000);
  const hog = lab.spawn('client', [process.execPath, '-e', 'for (;;) {}']);
  for (const h of HOSTS) await lab.loss(h, 0.1, { udpPort: 694 });
  await sleep(WARMUP_MS);
  const before = await transitionCount(lab, HOSTS);
  const rss0 = daemons.map((d) => rssKb(d.child.pid!));
  const started = Date.now();
  while (Date.now() - started < SECONDS * 1000) {
    await sleep(Math.min(30_000, SECONDS * 1000 - (Date.now() - started)));
    process.stdout.write(`${Math.round((Date.now() - started) / 1000)} s: transitions ${(await transitionCount(lab, HOSTS)) - before}, RSS ${daemons.map((d) => `${d.host} ${(rssKb(d.child.pid!) / 1024).toFixed(1)} MB`).join(', ')}\n`);
  }
  const changed = (await transitionCount(lab, HOSTS)) - before;
  const growth = daemons.map((d, i) => (rssKb(d.child.pid!) - rss0[i]!) / rss0[i]!);
  lab.kill(hog, 'SIGKILL');
  process.stdout.write(`soak ${SECONDS} s at 10% loss with a CPU hog: ${changed} transitions; RSS growth ${growth.map((g, i) => `${HOSTS[i]} ${(g * 100).toFixed(1)}%`).join(', ')}\n`);
  failed = changed !== 0 || growth.some((g) => g >= 0.05);
} finally {
  await lab.destroy();
}
process.exitCode = failed ? 1 : 0;
