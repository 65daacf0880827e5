/**
 * Issue 2 on real processes: the recipe's three Heartbeat files (addresses rewritten to the lab)
 * drive two daemons in network namespaces; a client namespace probes the VIP over HTTP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createLab, type Lab, type Prober } from './netns.js';
import { requireLab, labUnavailable } from './guard.js';
import { firstAnswerFrom, longestGap } from './analysis.js';
import { api, cli, LAB_VIP, RECIPE_DIR, metricValue, startSidecar, waitHolders, waitReady, watchDoubleHolders, writeRecipe, type Sidecar } from './sidecar.js';
import { sendDatagrams, sendPayloads } from './datagrams.js';

const RECIPE_DEADTIME_MS = 10_000;
const PORT = 8080;

describe('the recipe, unchanged but for addresses', { concurrency: false }, () => {
  let lab: Lab;
  let prober: Prober;
  /** A heartbeat of cookbook's first boot, replayed after it restarted. */
  let oldHeartbeat: Buffer | null = null;
  const sidecars = new Map<string, Sidecar>();
  const dirs = new Map<string, string>();

  function start(host: string): Sidecar {
    const s = startSidecar(lab, host, ['--ha-dir', dirs.get(host)!]);
    sidecars.set(host, s);
    return s;
  }

  before(async () => {
    if (labUnavailable() !== null) return;
    lab = await createLab({ hosts: ['cookbook', 'cookbook2'], name: 'recipe' });
    for (const host of ['cookbook', 'cookbook2']) {
      dirs.set(host, writeRecipe(lab, path.join(lab.dir, 'ha.d', host)));
      await lab.startResponder(host, PORT);
    }
    start('cookbook');
    start('cookbook2');
    await Promise.all(['cookbook', 'cookbook2'].map((h) => waitReady(lab, h)));
    prober = await lab.startProber(`http://${LAB_VIP}:${PORT}/`);
  });

  after(async () => {
    await prober?.stop();
    await lab?.destroy();
  });

  test('cookbook holds the VIP, the client reaches it there, and cl_status says so on both', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['cookbook'], 15_000);
    await prober.waitFor((r) => r.host === 'cookbook', 5000);
    const primary = await cli(lab, 'cookbook', ['cl_status', 'rscstatus', '-m']);
    const secondary = await cli(lab, 'cookbook2', ['cl_status', 'rscstatus', '-m']);
    assert.equal(primary.stdout.trim(), 'This node is holding all resources.');
    assert.equal(secondary.stdout.trim(), 'This node is holding none resources.');
    const nodes = await cli(lab, 'cookbook2', ['cl_status', 'listnodes']);
    assert.deepEqual(nodes.stdout.trim().split('\n').sort(), ['cookbook', 'cookbook2']);
    // The label from haresources (eth0:1) is on the address, as Heartbeat's IPaddr sets it.
    const addrs = JSON.parse((await lab.exec('cookbook', ['ip', '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as { addr_info: { local: string; label?: string }[] }[];
    assert.equal(addrs[0]!.addr_info.find((a) => a.local === LAB_VIP)?.label, 'eth0:1');
  });

  test('/status names the holder, peers with per-path last-heard, and the last transition with its reason', async (t) => {
    if (!requireLab(t)) return;
    const status = JSON.parse(await api(lab, 'cookbook2', '/status'));
    assert.equal(status.node, 'cookbook2');
    assert.equal(status.rscstatus, 'none');
    assert.equal(status.groups[0].holder, 'cookbook');
    assert.equal(status.peers[0].node, 'cookbook');
    assert.equal(status.peers[0].state, 'up');
    assert.equal(status.peers[0].paths[0].path, 'ucast:eth0');
    assert.ok(status.peers[0].paths[0].lastHeardAgoMs < 2500, JSON.stringify(status.peers[0]));
    const primary = JSON.parse(await api(lab, 'cookbook', '/status'));
    assert.equal(primary.lastTransition.to, 'held');
    assert.match(primary.lastTransition.reason, /acquired/);
    assert.equal(await api(lab, 'cookbook', '/status?format=text'), 'This node is holding all resources.\n');
  });

  test('/metrics passes promtool check metrics', async (t) => {
    if (!requireLab(t)) return;
    const text = await api(lab, 'cookbook', '/metrics');
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
    assert.equal(metricValue(text, 'heartbeat_group_held', { group: LAB_VIP }), 1);
  });

  test('the authkeys secret appears nowhere: not in /status, /metrics or the log', async (t) => {
    if (!requireLab(t)) return;
    const secret = /^1\s+sha1\s+(\S+)/m.exec(fs.readFileSync(path.join(RECIPE_DIR, 'authkeys'), 'utf8'))![1]!;
    for (const host of ['cookbook', 'cookbook2']) {
      for (const route of ['/status', '/metrics']) assert.ok(!(await api(lab, host, route)).includes(secret), `${route} on ${host}`);
      assert.ok(!fs.readFileSync(sidecars.get(host)!.log, 'utf8').includes(secret), `log of ${host}`);
    }
  });

  test('forged, replayed and garbage datagrams are rejected, counted by reason, and change nothing', async (t) => {
    if (!requireLab(t)) return;
    const before = await api(lab, 'cookbook2', '/metrics');
    const statusBefore = JSON.parse(await api(lab, 'cookbook2', '/status'));
    const sent = await sendDatagrams(lab, { from: 'client', to: lab.hosts['cookbook2']!.address, captureOn: 'cookbook2', port: 694, sender: 'cookbook' });
    oldHeartbeat = sent.captured;
    await new Promise((r) => setTimeout(r, 300));
    const afterText = await api(lab, 'cookbook2', '/metrics');
    const delta = (reason: string) =>
      (metricValue(afterText, 'heartbeat_datagrams_rejected_total', { reason }) ?? 0) - (metricValue(before, 'heartbeat_datagrams_rejected_total', { reason }) ?? 0);
    assert.equal(delta('badAuth'), sent.forged, 'wrong key');
    assert.equal(delta('replay'), sent.replayed, 'replayed capture');
    assert.equal(delta('malformed'), sent.garbage, 'garbage');
    const statusAfter = JSON.parse(await api(lab, 'cookbook2', '/status'));
    assert.deepEqual(statusAfter.lastTransition, statusBefore.lastTransition);
    assert.equal(statusAfter.peers[0].generation, statusBefore.peers[0].generation);
    assert.deepEqual(await lab.holders(LAB_VIP), ['cookbook']);
  });

  test('SIGTERM of the active: the peer holds without waiting deadtime, never both at once', async (t) => {
    if (!requireLab(t)) return;
    const watch = await watchDoubleHolders(lab);
    const at = prober.mark('sigterm cookbook');
    lab.kill(sidecars.get('cookbook')!.child, 'SIGTERM', 'process');
    const exit = await lab.waitExit(sidecars.get('cookbook')!.child, 8000);
    const served = await prober.waitFor((r) => r.host === 'cookbook2' && r.sentAt >= at, RECIPE_DEADTIME_MS);
    const { double, samples } = await watch.stop();
    const gap = longestGap(prober.records, at, served.sentAt);
    t.diagnostic(`SIGTERM: client-seen gap ${gap.ms.toFixed(0)} ms; first answer from cookbook2 ${(served.sentAt - at).toFixed(0)} ms after the signal`);
    assert.equal(exit.code, 0);
    assert.ok(served.sentAt - at < RECIPE_DEADTIME_MS / 2, `took ${served.sentAt - at} ms: that is waiting for deadtime`);
    assert.equal(double, 0, `${double} of ${samples} samples had two holders`);
    assert.deepEqual(await lab.holders(LAB_VIP), ['cookbook2']);
  });

  test('the primary returns: with auto_failback on it takes the VIP back through the handshake', async (t) => {
    if (!requireLab(t)) return;
    const watch = await watchDoubleHolders(lab);
    const at = prober.mark('restart cookbook');
    start('cookbook');
    const back = await prober.waitFor((r) => r.host === 'cookbook' && r.sentAt >= at, 20_000);
    const { double, samples } = await watch.stop();
    t.diagnostic(`failback: client-seen gap ${longestGap(prober.records, at, back.sentAt).ms.toFixed(0)} ms`);
    assert.equal(double, 0, `${double} of ${samples} samples had two holders`);
    assert.deepEqual(await lab.holders(LAB_VIP), ['cookbook']);
    const status = JSON.parse(await api(lab, 'cookbook2', '/status'));
    assert.match(status.lastTransition.reason, /^released$|^failback:cookbook$/);
  });

  test('a heartbeat captured before the sender restarted is rejected as stale, and changes nothing', async (t) => {
    if (!requireLab(t)) return;
    assert.ok(oldHeartbeat !== null, 'the capture of the forged/replayed test');
    const before = await api(lab, 'cookbook2', '/metrics');
    const statusBefore = JSON.parse(await api(lab, 'cookbook2', '/status'));
    await sendPayloads(lab, 'client', lab.hosts['cookbook2']!.address, 694, [oldHeartbeat!, oldHeartbeat!, oldHeartbeat!]);
    await new Promise((r) => setTimeout(r, 300));
    const afterText = await api(lab, 'cookbook2', '/metrics');
    const delta = (reason: string) =>
      (metricValue(afterText, 'heartbeat_datagrams_rejected_total', { reason }) ?? 0) - (metricValue(before, 'heartbeat_datagrams_rejected_total', { reason }) ?? 0);
    assert.equal(delta('stale'), 3, 'an earlier boot of cookbook');
    const statusAfter = JSON.parse(await api(lab, 'cookbook2', '/status'));
    assert.equal(statusAfter.peers[0].generation, statusBefore.peers[0].generation, 'the restarted generation stands');
    assert.deepEqual(statusAfter.lastTransition, statusBefore.lastTransition);
    assert.deepEqual(await lab.holders(LAB_VIP), ['cookbook']);
  });

  test('kill -9 of the active: served by the peer within deadtime + 2 s; the dead host\'s VIP lapses by itself', async (t) => {
    if (!requireLab(t)) return;
    await waitHolders(lab, ['cookbook'], 5000);
    const at = prober.mark('kill -9 cookbook');
    lab.kill(sidecars.get('cookbook')!.child, 'SIGKILL');
    const served = await prober.waitFor((r) => r.host === 'cookbook2' && r.sentAt >= at, RECIPE_DEADTIME_MS + 4000);
    t.diagnostic(`kill -9: served by cookbook2 ${(served.sentAt - at).toFixed(0)} ms after the kill`);
    assert.ok(served.sentAt - at <= RECIPE_DEADTIME_MS + 2000, `took ${served.sentAt - at} ms`);
    // Nothing runs on cookbook to remove it: the kernel lease (deadtime, renewed while alive) does.
    const lapsed = await waitHolders(lab, ['cookbook2'], RECIPE_DEADTIME_MS + 3000);
    t.diagnostic(`the killed host's VIP lapsed ${(lab.now() - at).toFixed(0)} ms after the kill`);
    assert.ok(lapsed >= 0);
    assert.equal(firstAnswerFrom(prober.records, 'cookbook2', at)?.host, 'cookbook2');
  });
});

describe('the recipe with auto_failback off', { concurrency: false }, () => {
  let lab: Lab;
  const dirs = new Map<string, string>();
  const sidecars = new Map<string, Sidecar>();

  before(async () => {
    if (labUnavailable() !== null) return;
    lab = await createLab({ hosts: ['cookbook', 'cookbook2'], name: 'nofailback' });
    for (const host of ['cookbook', 'cookbook2']) {
      dirs.set(host, writeRecipe(lab, path.join(lab.dir, 'ha.d', host), (cf) => cf.replace(/^auto_failback on$/m, 'auto_failback off')));
    }
  });

  after(async () => lab?.destroy());

  test('the secondary keeps the VIP when the primary returns', async (t) => {
    if (!requireLab(t)) return;
    assert.match(fs.readFileSync(path.join(dirs.get('cookbook')!, 'ha.cf'), 'utf8'), /^auto_failback off$/m);
    for (const h of ['cookbook', 'cookbook2']) sidecars.set(h, startSidecar(lab, h, ['--ha-dir', dirs.get(h)!]));
    await waitHolders(lab, ['cookbook'], 15_000);
    lab.kill(sidecars.get('cookbook')!.child, 'SIGTERM', 'process');
    await waitHolders(lab, ['cookbook2'], 5000);
    sidecars.set('cookbook', startSidecar(lab, 'cookbook', ['--ha-dir', dirs.get('cookbook')!]));
    await waitReady(lab, 'cookbook');
    const status = await waitForPeerUp(lab, 'cookbook');
    assert.equal(status, 'up');
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await lab.holders(LAB_VIP), ['cookbook2']);
    assert.equal((await cli(lab, 'cookbook', ['cl_status', 'rscstatus'])).stdout.trim(), 'none');
  });
});

async function waitForPeerUp(lab: Lab, host: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const s = JSON.parse(await api(lab, host, '/status'));
    if (s.peers[0]?.state === 'up') return 'up';
    await new Promise((r) => setTimeout(r, 200));
  }
  return 'not up';
}
