/**
 * The two-host demo: the recipe's Heartbeat files (addresses rewritten to the lab) on hosts
 * `cookbook` and `cookbook2`, a client that asks the VIP "who are you?" every 10 ms, then a crash,
 * a return with failback, and a planned stop. Everything lives in namespaces this run creates.
 */
import path from 'node:path';
import { createLab, type Lab, type Prober } from './netns.js';
import { labUnavailable } from './guard.js';
import { longestGap } from './analysis.js';
import { cli, LAB_VIP, startSidecar, waitHolders, waitReady, writeRecipe, type Sidecar } from './sidecar.js';

/** The recipe waits 10 s for a dead peer; the demo keeps the files and speeds up the clock by env. */
const FAST = { HB_KEEPALIVE: '100ms', HB_WARNTIME: '400ms', HB_DEADTIME: '800ms', HB_INITDEAD: '3s' };
const HOSTS = ['cookbook', 'cookbook2'];

const say = (s: string) => process.stdout.write(`${s}\n`);

async function show(lab: Lab, prober: Prober): Promise<void> {
  const holders = await lab.holders(LAB_VIP);
  const recent = prober.records.filter((r) => r.sentAt > lab.now() - 300 && r.host !== null).at(-1);
  say(`   VIP ${LAB_VIP} is on: ${holders.join(', ') || 'nobody'}; the client is answered by: ${recent?.host ?? 'nobody'}`);
  for (const h of HOSTS) {
    const r = await cli(lab, h, ['cl_status', 'rscstatus', '-m']);
    say(`   ${h.padEnd(9)} $ cl_status rscstatus -m → ${(r.stdout.trim() || r.stderr.trim() || '(daemon not running)')}`);
  }
}

async function main(): Promise<void> {
  const why = labUnavailable();
  if (why !== null) throw new Error(`the demo cannot run here: ${why}`);
  const lab = await createLab({ hosts: HOSTS, name: 'demo' });
  try {
    say('1. Two hosts, one switch, one client, each in its own network namespace.');
    const sidecars = new Map<string, Sidecar>();
    const dirs = new Map<string, string>();
    const start = (h: string) => sidecars.set(h, startSidecar(lab, h, ['--ha-dir', dirs.get(h)!], FAST));
    for (const h of HOSTS) {
      dirs.set(h, writeRecipe(lab, path.join(lab.dir, 'ha.d', h)));
      await lab.startResponder(h);
      start(h);
    }
    say(`   The recipe's ha.cf, authkeys and haresources are loaded unchanged (addresses rewritten), with ${Object.entries(FAST).map(([k, v]) => `${k}=${v}`).join(' ')}.`);
    await Promise.all(HOSTS.map((h) => waitReady(lab, h)));
    const prober = await lab.startProber(`http://${LAB_VIP}:8080/`);
    await waitHolders(lab, ['cookbook'], 15_000);
    await prober.waitFor((r) => r.host === 'cookbook', 5000);
    await show(lab, prober);

    say('\n2. kill -9 the active daemon on cookbook (a crash: no goodbye).');
    let at = prober.mark('kill -9');
    lab.kill(sidecars.get('cookbook')!.child, 'SIGKILL');
    let served = await prober.waitFor((r) => r.host === 'cookbook2' && r.sentAt >= at, 10_000);
    say(`   The client was answered by cookbook2 ${(served.sentAt - at).toFixed(0)} ms after the crash.`);
    await show(lab, prober);
    say('   Nothing runs on cookbook to remove its copy of the VIP; its kernel lease does:');
    await waitHolders(lab, ['cookbook2'], 10_000);
    say(`   cookbook's VIP lapsed by itself ${(lab.now() - at).toFixed(0)} ms after the crash.`);

    say('\n3. Start cookbook again: with auto_failback on, it takes the VIP back by handshake.');
    at = prober.mark('restart');
    start('cookbook');
    served = await prober.waitFor((r) => r.host === 'cookbook' && r.sentAt >= at, 15_000);
    say(`   Back on cookbook; the longest time the client went unanswered: ${longestGap(prober.records, at, served.sentAt).ms.toFixed(0)} ms.`);
    await show(lab, prober);

    say('\n4. Planned stop (SIGTERM, as `docker stop` sends) of cookbook: release, goodbye, immediate takeover.');
    at = prober.mark('sigterm');
    lab.kill(sidecars.get('cookbook')!.child, 'SIGTERM', 'process');
    served = await prober.waitFor((r) => r.host === 'cookbook2' && r.sentAt >= at, 10_000);
    await lab.waitExit(sidecars.get('cookbook')!.child, 6000);
    say(`   Handover done; the client went unanswered for ${longestGap(prober.records, at, served.sentAt).ms.toFixed(0)} ms.`);
    await show(lab, prober);
    await prober.stop();
  } finally {
    await lab.destroy();
    say('\nCleaned up: namespaces and processes of this run are gone.');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
