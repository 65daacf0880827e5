/**
 * The API's bounds against an outsider (issue 11 items 1 and 4): refused requests are logged
 * once per reason per window, connections are capped per source and idle ones closed. Real
 * sockets on 127.0.0.1 only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { StatusSnapshot } from '../daemon/status.js';
import { FakeTime } from '../../../test/support/fake-time.js';
import type { RefusalReason } from '../domain/refusals.js';
import { buildApi } from './server.js';
import type { ApiLimits } from './limits.js';

function harness(limits: Partial<ApiLimits> = {}) {
  const logs: string[] = [];
  const refused: RefusalReason[] = [];
  let suppressed = 0;
  const time = new FakeTime();
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const app = buildApi({
    status: () => ({ rscstatus: 'all', ready: true, role: 'active' }) as unknown as StatusSnapshot,
    registry: new Registry(),
    admin: { standby: () => {}, takeover: () => {}, maintenance: () => {}, reload: async () => assert.fail('no reload here') },
    adminToken: 'the-admin-token-0123456789',
    logger,
    now: () => time.now(),
    onRefused: (r) => void refused.push(r),
    onSuppressed: () => void suppressed++,
    limits,
  });
  return { app, logs, refused, time, suppressed: () => suppressed };
}

test('4,472 requests for unknown long paths: one log line per window, all counted, lines bounded', async () => {
  const { app, logs, refused, time, suppressed } = harness();
  for (let i = 0; i < 4472; i++) await app.inject({ method: 'GET', url: `/v1/${'x'.repeat(4000)}${i}` });
  assert.equal(logs.length, 1);
  assert.ok(logs[0]!.length < 1000, `a line of ${logs[0]!.length} chars`);
  assert.equal(refused.length, 4472);
  assert.equal(suppressed(), 4471);
  await time.advance(10_000);
  await app.inject({ method: 'GET', url: '/nope' });
  assert.equal(logs.length, 2);
  assert.match(logs[1]!, /and 4471 more refused for not-found/);
});

test('refused admin requests: one line per reason per window, whatever the token tried', async () => {
  const { app, logs, refused } = harness();
  for (let i = 0; i < 500; i++) await app.inject({ method: 'POST', url: '/v1/standby', headers: { authorization: `Bearer guess-${i}` } });
  for (let i = 0; i < 500; i++) await app.inject({ method: 'POST', url: '/v1/takeover' });
  assert.equal(logs.length, 1);
  assert.equal(refused.filter((r) => r === 'unauthorized').length, 1000);
  const ok = await app.inject({ method: 'POST', url: '/v1/standby', headers: { authorization: 'Bearer the-admin-token-0123456789' } });
  assert.equal(ok.statusCode, 202);
  assert.equal(logs.length, 2, 'an accepted admin action is always logged');
});

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  await once(s, 'connect');
  return s;
}

const closed = (s: net.Socket) => new Promise<void>((r) => (s.destroyed ? r() : s.once('close', () => r())));

test('connections beyond the per-source cap are closed at once; the API still answers when some go', async () => {
  const { app, refused } = harness({ maxConnectionsPerSource: 4 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (app.server.address() as net.AddressInfo).port;
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connect(port)));
    await Promise.all(sockets.slice(4).map(closed));
    assert.equal(refused.filter((r) => r === 'source-connection-limit').length, 6);
    for (const s of sockets.slice(0, 2)) s.destroy();
    // The server must have seen them go before a new connection fits under the cap.
    while ((await new Promise<number>((r) => app.server.getConnections((_e, n) => r(n)))) > 2) await new Promise((r) => setImmediate(r));
    const r = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(r.status, 200);
    for (const s of sockets) s.destroy();
  } finally {
    app.server.closeAllConnections();
    await app.close();
  }
});

test('an idle connection that never sends a request is closed after the idle timeout', async () => {
  const { app } = harness({ idleTimeoutMs: 200, headersTimeoutMs: 200, requestTimeoutMs: 200 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (app.server.address() as net.AddressInfo).port;
    const s = await connect(port);
    const started = performance.now();
    await closed(s);
    const took = performance.now() - started;
    assert.ok(took >= 150 && took < 5_000, `closed after ${took} ms`);
  } finally {
    app.server.closeAllConnections();
    await app.close();
  }
});

test('a client that trickles header bytes (never idle) is closed soon after the header timeout', async () => {
  const { app } = harness({ headersTimeoutMs: 300, timeoutCheckMs: 100 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const port = (app.server.address() as net.AddressInfo).port;
    const s = await connect(port);
    const started = performance.now();
    s.write('GET /status HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 50);
    try {
      await closed(s);
    } finally {
      clearInterval(trickle);
    }
    const took = performance.now() - started;
    // Node's own 30 s check interval would keep it open far longer than this bound.
    assert.ok(took >= 250 && took < 3_000, `closed after ${took} ms`);
  } finally {
    app.server.closeAllConnections();
    await app.close();
  }
});
