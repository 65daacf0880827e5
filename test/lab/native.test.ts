/**
 * Native defaults on real processes: a YAML config with no timing keys, two hosts, a client
 * probing the VIP every 10 ms. Crash and planned-stop failovers, five of each, with the
 * client-seen figures printed; the assertions are generous bounds only (a busy 2-core machine).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lab, Prober } from './netns.js';
import { labUnavailable, requireLab } from './guard.js';
import { longestGap } from './analysis.js';
import { startNativePair, waitHolders, watchDoubleHolders, type NativePair, type Sidecar } from './sidecar.js';

const HOSTS = ['alpha', 'beta'];
const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('native defaults', { concurrency: false }, () => {
  let pair: NativePair;
  let lab: Lab;
  let prober: Prober;
  let sidecars: Map<string, Sidecar>;
  const start = (h: string) => pair.start(h);

  before(async () => {
    if (labUnavailable() !== null) return;
    pair = await startNativePair('native', HOSTS);
    ({ lab, prober, sidecars } = pair);
  });

  after(async () => pair?.destroy());

  test(`kill -9 of the active, ${ROUNDS} times: served by the peer within 2 s`, async (t) => {
    if (!requireLab(t)) return;
    const took: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await waitHolders(lab, ['alpha'], 10_000);
      await prober.waitFor((r) => r.host === 'alpha' && r.sentAt > lab.now() - 50, 3000);
      const at = prober.mark(`kill -9 alpha #${i}`);
      lab.kill(sidecars.get('alpha')!.child, 'SIGKILL');
      const served = await prober.waitFor((r) => r.host === 'beta' && r.sentAt >= at, 5000);
      took.push(served.sentAt - at);
      start('alpha');
    }
    t.diagnostic(`kill -9 → served by the peer (ms): ${took.map((x) => x.toFixed(0)).join(', ')}; median ${median(took).toFixed(0)}`);
    for (const x of took) assert.ok(x <= 2000, `failover took ${x} ms`);
  });

  test(`SIGTERM of the active, ${ROUNDS} times: handover gap well under deadtime, never two holders`, async (t) => {
    if (!requireLab(t)) return;
    const gaps: number[] = [];
    let doubles = 0;
    let samples = 0;
    for (let i = 0; i < ROUNDS; i++) {
      await waitHolders(lab, ['alpha'], 10_000);
      await prober.waitFor((r) => r.host === 'alpha' && r.sentAt > lab.now() - 50, 3000);
      const watch = await watchDoubleHolders(lab, 20);
      const at = prober.mark(`SIGTERM alpha #${i}`);
      lab.kill(sidecars.get('alpha')!.child, 'SIGTERM', 'process');
      const served = await prober.waitFor((r) => r.host === 'beta' && r.sentAt >= at, 5000);
      await lab.waitExit(sidecars.get('alpha')!.child, 5000);
      const w = await watch.stop();
      doubles += w.double;
      samples += w.samples;
      gaps.push(longestGap(prober.records, at, served.sentAt).ms);
      start('alpha');
    }
    t.diagnostic(`SIGTERM → client-seen gap (ms): ${gaps.map((x) => x.toFixed(0)).join(', ')}; median ${median(gaps).toFixed(0)}; double-holder samples ${doubles}/${samples}`);
    assert.equal(doubles, 0);
    for (const g of gaps) assert.ok(g < 800, `gap ${g} ms is not a planned move`);
  });
});
