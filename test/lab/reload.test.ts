/**
 * The recipe's `service heartbeat reload` on real processes: the pair's shared config file is
 * rewritten and both daemons get SIGHUP, as Puppet would do after changing the files, while a
 * client probes the VIP every 10 ms. A reload that changes keepalive and adds a key, and one of a
 * broken file, lose no probe and move nothing; one that removes the held group from one node
 * hands it to the peer by the handshake, never with two holders.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { failures, longestGap } from './analysis.js';
import { labUnavailable, requireLab } from './guard.js';
import { waitFor } from './netns.js';
import { api, LAB_VIP, nativeYaml, startNativePair, startSidecar, transitionCount, waitHolders, watchDoubleHolders, type NativePair } from './sidecar.js';

const HOSTS = ['alpha', 'beta'];

interface Reload {
  result: string;
  problems: string[];
  applied: string[];
}

describe('reload on SIGHUP', { concurrency: false }, () => {
  let pair: NativePair;
  let config: string;

  before(async () => {
    if (labUnavailable() !== null) return;
    pair = await startNativePair('reload', HOSTS);
    config = path.join(pair.lab.dir, 'sidecar.yaml');
    await waitHolders(pair.lab, ['alpha'], 10_000);
  });

  after(async () => pair?.destroy());

  /** SIGHUP to the given daemons, and their /status once each has reported the reload. */
  async function hup(hosts: readonly string[], count: number): Promise<Reload[]> {
    for (const h of hosts) pair.lab.kill(pair.sidecars.get(h)!.child, 'SIGHUP', 'process');
    const out: Reload[] = [];
    for (const h of hosts) {
      await waitFor(async () => (await api(pair.lab, h, '/metrics')).split('\n').filter((l) => l.startsWith('heartbeat_config_reloads_total{')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0) >= count, {
        what: `${h} reporting reload ${count}`,
        timeoutMs: 10_000,
      });
      out.push((JSON.parse(await api(pair.lab, h, '/status')) as { reload: Reload }).reload);
    }
    return out;
  }

  async function quiet(label: string, from: number): Promise<void> {
    await sleep(3000);
    const to = pair.lab.now();
    const lost = failures(pair.prober.records, { from, to });
    process.stderr.write(`[reload] ${label}: ${lost} failed probes, longest gap ${longestGap(pair.prober.records, from, to).ms.toFixed(0)} ms\n`);
    assert.equal(lost, 0, `${label}: probes lost`);
  }

  test('a reload that changes keepalive and adds a key: no probe lost, no transition', async (t) => {
    if (!requireLab(t)) return;
    const before = await transitionCount(pair.lab, HOSTS);
    const from = pair.lab.now();
    const text = nativeYaml(pair.lab, HOSTS, 'keepalive: 200ms\ndeadtime: 1200ms\n').replace(
      '  keys: [{id: 1, method: sha256, secret: lab-secret-not-for-production}]',
      '  keys: [{id: 1, method: sha256, secret: lab-secret-not-for-production}, {id: 2, method: sha256, secret: lab-secret-rotated-next}]',
    );
    fs.writeFileSync(config, text);
    const reloads = await hup(HOSTS, 1);
    assert.deepEqual(reloads.map((r) => [r.result, r.applied]), [
      ['applied', ['timing', 'keys']],
      ['applied', ['timing', 'keys']],
    ]);
    await quiet('keepalive 200 ms and a second key', from);
    assert.equal(await transitionCount(pair.lab, HOSTS), before);
    assert.deepEqual(await pair.lab.holders(LAB_VIP), ['alpha']);
  });

  test('a reload of a broken file is refused with file:line, and the daemons run on: no probe lost, no transition', async (t) => {
    if (!requireLab(t)) return;
    const before = await transitionCount(pair.lab, HOSTS);
    const from = pair.lab.now();
    const good = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, good.replace('keepalive: 200ms', 'keepalive: fast'));
    const reloads = await hup(HOSTS, 2);
    for (const r of reloads) {
      assert.equal(r.result, 'refused');
      assert.match(r.problems.join('\n'), /sidecar\.yaml:\d+/);
    }
    const metrics = await api(pair.lab, 'alpha', '/metrics');
    assert.match(metrics, /^heartbeat_config_reloads_total\{result="refused"\} 1$/m);
    await quiet('a broken file', from);
    assert.equal(await transitionCount(pair.lab, HOSTS), before);
    fs.writeFileSync(config, good);
  });

  test("a reload that removes the held group on its holder: the peer takes it by handshake, never two holders", async (t) => {
    if (!requireLab(t)) return;
    const watch = await watchDoubleHolders(pair.lab, 5);
    // only alpha reloads a config without the group, as when one host's change lands first
    const shared = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, `${shared.slice(0, shared.indexOf('groups:'))}groups: []\n${shared.slice(shared.indexOf('auth:'))}`);
    const from = pair.lab.now();
    pair.lab.kill(pair.sidecars.get('alpha')!.child, 'SIGHUP', 'process');
    const took = await waitHolders(pair.lab, ['beta'], 5000);
    const gap = longestGap(pair.prober.records, from, pair.lab.now());
    process.stderr.write(`[reload] group removed on alpha: beta holding after ${took.toFixed(0)} ms, client-seen gap ${gap.ms.toFixed(0)} ms\n`);
    assert.ok(took < 800, `beta took ${took} ms, as long as a crash (deadtime 1200 ms): no handshake`);
    await sleep(2000);
    assert.deepEqual(await pair.lab.holders(LAB_VIP), ['beta'], 'alpha, without the group, claims nothing');
    const alpha = JSON.parse(await api(pair.lab, 'alpha', '/status')) as { groups: unknown[]; reload: Reload };
    assert.deepEqual([alpha.groups, alpha.reload.applied], [[], ['groups']]);
    const { samples, double } = await watch.stop();
    assert.equal(double, 0, `${double} of ${samples} samples saw the VIP on both hosts`);
    fs.writeFileSync(config, shared);
    // a restarted alpha on the shared file takes the group back (preferred, auto_failback)
    pair.lab.kill(pair.sidecars.get('alpha')!.child, 'SIGTERM', 'process');
    await pair.lab.waitExit(pair.sidecars.get('alpha')!.child, 10_000);
    pair.sidecars.set('alpha', startSidecar(pair.lab, 'alpha', ['--config', config]));
    await waitHolders(pair.lab, ['alpha'], 15_000);
  });
});
