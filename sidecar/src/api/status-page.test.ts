import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import vm from 'node:vm';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { StatusSnapshot } from '../daemon/status.js';
import { buildApi } from './server.js';
import { STATUS_PAGE } from './status-page.js';

function api() {
  const snapshot = { node: 'alpha', role: 'active', rscstatus: 'all', groups: [], peers: [], containers: [], ready: true } as unknown as StatusSnapshot;
  return buildApi({ status: () => snapshot, registry: new Registry(), admin: { standby() {}, takeover() {}, maintenance() {}, reload: () => Promise.reject(new Error('no')) }, adminToken: null, logger: pino({ level: 'silent' }) });
}

const inline = (tag: string): string => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(STATUS_PAGE.html)![1]!;
const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

test('GET / is the status page: HTML, not cached, with a CSP that allows only its own script, style and this origin', async () => {
  const app = api();
  const r = await app.inject({ method: 'GET', url: '/' });
  assert.equal(r.statusCode, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  const csp = String(r.headers['content-security-policy']);
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
  assert.ok(csp.includes(`script-src ${hash(inline('script'))}`), 'the script hash in the CSP matches the inline script');
  assert.ok(csp.includes(`style-src ${hash(inline('style'))}`), 'the style hash in the CSP matches the inline style');
  assert.match(r.body, /^<!doctype html>/);
  assert.equal((await app.inject({ method: 'HEAD', url: '/' })).statusCode, 200);
  await app.close();
});

test('the page needs nothing from elsewhere: no external URL, no framework, and small', () => {
  assert.doesNotMatch(STATUS_PAGE.html, /(src|href)="(https?:)?\/\//);
  assert.doesNotMatch(STATUS_PAGE.html, /innerHTML|eval\(|new Function/, 'everything shown goes through textContent');
  assert.ok(STATUS_PAGE.html.length < 12_000, `${STATUS_PAGE.html.length} bytes`);
  new vm.Script(inline('script'), { filename: 'status-page.js' });
});

test('the page polls /status relative to itself, so it works behind a path prefix', () => {
  assert.match(inline('script'), /fetch\("status"/);
});

/** Just enough of a DOM for the page's script: elements by id, text, classes, rows of cells. */
class FakeElement {
  textContent = '';
  className = '';
  hidden = false;
  colSpan = 1;
  children: FakeElement[] = [];
  readonly classList = { toggle: () => undefined };
  replaceChildren(...children: FakeElement[]): void {
    this.children = children;
  }
  append(...children: FakeElement[]): void {
    this.children.push(...children);
  }
}

/** Runs the page's script against one /status answer; what it rendered, by element id. */
async function rendered(status: unknown): Promise<(id: string) => FakeElement> {
  const elements = new Map<string, FakeElement>();
  const byId = (id: string): FakeElement => elements.get(id) ?? elements.set(id, new FakeElement()).get(id)!;
  const document = { title: '', body: new FakeElement(), getElementById: byId, createElement: () => new FakeElement() };
  const fetch = async () => ({ ok: true, status: 200, json: async () => status });
  // Timers are never run: one poll is all the test needs.
  const context = vm.createContext({ document, fetch, AbortSignal, setTimeout: () => 0, setInterval: () => 0 });
  new vm.Script(inline('script')).runInContext(context);
  for (let i = 0; i < 10 && byId('node').textContent === ''; i++) await new Promise((r) => setImmediate(r));
  return byId;
}

const rows = (e: FakeElement): string[][] => e.children.map((tr) => tr.children.map((td) => td.textContent));

const STATUS = { node: 'alpha', role: 'active', rscstatus: 'all', healthy: true, healthReasons: [], standby: false, maintenance: false, groups: [], peers: [], containers: [], configHash: 'c0ffee12', lastTransition: null, recentTransitions: [] };

test('with etcd the page shows the election: lease, time to the fence, whether etcd answers, and every group’s owner in etcd', async () => {
  const election = { backend: 'etcd', lease: '7587883212345', fenceInMs: 2_250, storeReachable: true, onStoreLost: 'release', candidates: ['alpha', 'beta'], holders: { web: 'alpha', db: null } };
  const page = await rendered({ ...STATUS, election });
  assert.equal(page('election').textContent, 'etcd · lease 7587883212345 · fence in 2.3 s · etcd answers · on_store_lost release · registered: alpha, beta');
  assert.equal(page('election').className, 'sub');
  assert.equal(page('owners').hidden, false);
  assert.deepEqual(rows(page('owners-rows')), [['web', 'alpha'], ['db', 'nobody']]);
  const cut = await rendered({ ...STATUS, election: { ...election, lease: null, fenceInMs: null, storeReachable: false } });
  assert.equal(cut('election').textContent, 'etcd · lease none · no fence: nothing may be held · etcd does not answer · on_store_lost release · registered: alpha, beta');
  assert.equal(cut('election').className, 'bad');
});

test('with the heartbeat election the page says so, without an etcd owners table', async () => {
  const page = await rendered({ ...STATUS, election: { backend: 'heartbeat' } });
  assert.equal(page('election').textContent, 'heartbeat: the nodes elect among themselves, over the paths');
  assert.equal(page('owners').hidden, true);
  assert.equal((await rendered(STATUS))('owners').hidden, true, 'a daemon older than the field');
});
