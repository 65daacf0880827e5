/**
 * The status page (`GET /`) in a real headless browser: Debian's chromium, driven by
 * playwright-core from the client namespace, opens the page of both nodes of a native pair. It
 * shows the holder; after a kill -9 of the holder the survivor's page shows the new holder and the
 * transition with its reason within 1 s of the takeover, and the dead node's page says its view
 * is stale. Screenshots are kept in test/lab/artifacts/ (HB_ARTIFACTS overrides).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { browserUnavailable, openBrowser, type Browser } from './browser.js';
import { labUnavailable, requireLab } from './guard.js';
import { API_PORT, api, REPO, startNativePair, waitHolders, type NativePair } from './sidecar.js';
import type { StatusSnapshot } from '../../sidecar/src/daemon/status.js';

const HOSTS = ['alpha', 'beta'];
const ARTIFACTS = process.env.HB_ARTIFACTS ?? path.join(REPO, 'test/lab/artifacts');

describe('status page in a browser', { concurrency: false }, () => {
  let pair: NativePair | undefined;
  let browser: Browser | undefined;

  before(async () => {
    if (labUnavailable() !== null || browserUnavailable() !== null) return;
    pair = await startNativePair('status-page', HOSTS);
    browser = await openBrowser(pair.lab);
  });

  after(async () => {
    await browser?.close();
    await pair?.destroy();
  });

  test('both pages show the holder; after kill -9 of it the survivor shows the new holder and why within 1 s', async (t) => {
    if (!requireLab(t)) return;
    const missing = browserUnavailable();
    if (missing !== null) {
      if (process.env.CI === 'true') assert.fail(`the browser test cannot run in CI: ${missing}`);
      t.skip(missing);
      return;
    }
    const { lab, sidecars } = pair!;
    const b = browser!;
    await waitHolders(lab, ['alpha'], 15_000);
    for (const h of HOSTS) await b.call({ cmd: 'open', id: h, url: `http://${lab.hosts[h]!.address}:${API_PORT}/` });
    // alpha's own timeline has its election; beta has made no transition yet.
    await b.call({ cmd: 'waitHolder', id: 'alpha', group: 'web', holder: 'alpha', reason: 'elected', timeoutMs: 10_000 });
    await b.call({ cmd: 'waitHolder', id: 'beta', group: 'web', holder: 'alpha', reason: '', timeoutMs: 10_000 });
    await b.call({ cmd: 'shot', id: 'alpha', file: path.join(ARTIFACTS, 'status-page-alpha-holder.png') });

    lab.kill(sidecars.get('alpha')!.child, 'SIGKILL');
    const seen = await b.call({ cmd: 'waitHolder', id: 'beta', group: 'web', holder: 'beta', reason: 'peer-dead:alpha', timeoutMs: 15_000 });
    const status = JSON.parse(await api(lab, 'beta', '/status')) as StatusSnapshot;
    const takeover = [...(status.recentTransitions ?? [])].reverse().find((x) => x.group === 'web' && x.to === 'held');
    assert.ok(takeover !== undefined, 'beta recorded its takeover');
    const lagMs = Number(seen.at) - Date.parse(takeover.at);
    t.diagnostic(`beta took web at ${takeover.at}; its page showed the new holder and "peer-dead:alpha" ${lagMs} ms later`);
    assert.ok(lagMs <= 1_000, `the page showed the takeover ${lagMs} ms after it`);
    assert.ok(lagMs > -50, `seen ${lagMs} ms before the takeover: clocks disagree?`);

    const text = String((await b.call({ cmd: 'text', id: 'beta' })).text);
    for (const expected of ['peer-dead:alpha', 'none → acquiring', 'acquiring → held', 'ucast:eth0', 'dead', 'beta (this node)']) assert.ok(text.includes(expected), `beta's page lacks "${expected}":\n${text}`);

    const stale = await b.call({ cmd: 'waitStale', id: 'alpha', timeoutMs: 10_000 });
    t.diagnostic(`alpha's page said stale ${Number(stale.at) - Date.parse(takeover.at)} ms after the takeover`);
    assert.match(String((await b.call({ cmd: 'text', id: 'alpha' })).text), /Stale: no answer from alpha/);

    await b.call({ cmd: 'shot', id: 'beta', file: path.join(ARTIFACTS, 'status-page-beta-took-over.png') });
    await b.call({ cmd: 'shot', id: 'alpha', file: path.join(ARTIFACTS, 'status-page-alpha-stale.png') });
    await b.call({ cmd: 'shot', id: 'beta', file: path.join(ARTIFACTS, 'status-page-beta-phone.png'), width: 390, height: 844 });
    t.diagnostic(`screenshots in ${ARTIFACTS}`);
  });
});
