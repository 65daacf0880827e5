/** httpGet against a real server on loopback: statuses, redirects, refusals and timeouts. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemTimers as timers } from '../clock.js';
import { httpGet, httpSample } from './probes.js';

let base = '';
let seen: string[] = [];
const server = http.createServer((req, res) => {
  seen.push(`${req.method} ${req.url} ${req.headers.connection}`);
  if (req.url === '/ok') res.end('fine');
  else if (req.url === '/moved') res.writeHead(302, { location: '/nowhere' }).end();
  else if (req.url === '/hang') return;
  else res.writeHead(503).end('down');
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('a 2xx is up, on a fresh connection each time', async () => {
  seen = [];
  assert.deepEqual(await httpSample({ url: `${base}/ok`, timeoutMs: 1000 }, httpGet, timers), { ok: true, reason: '' });
  assert.deepEqual(seen, ['GET /ok close']);
});

test('a redirect is up and is not followed; a 503 is down with its status', async () => {
  seen = [];
  assert.equal((await httpSample({ url: `${base}/moved`, timeoutMs: 1000 }, httpGet, timers)).ok, true);
  assert.deepEqual(seen, ['GET /moved close']);
  assert.deepEqual(await httpSample({ url: `${base}/down`, timeoutMs: 1000 }, httpGet, timers), { ok: false, reason: `http ${base}/down answered 503` });
});

test('a server that never answers is a timeout; a closed port is refused', async () => {
  const slow = await httpSample({ url: `${base}/hang`, timeoutMs: 100 }, httpGet, timers);
  assert.deepEqual(slow, { ok: false, reason: `http ${base}/hang timed out after 100 ms` });
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const refused = await httpSample({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }, httpGet, timers);
  assert.deepEqual(refused, { ok: false, reason: `http http://127.0.0.1:${port}/ failed: ECONNREFUSED` });
});
