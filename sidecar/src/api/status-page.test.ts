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
