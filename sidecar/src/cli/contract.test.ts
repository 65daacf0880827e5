/**
 * The CLI against the real API routes, with fetch carried by fastify's inject(): no port is
 * opened, yet the URL, headers, token and body the CLI sends are the ones the API accepts.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApi } from '../api/server.js';
import type { ReloadStatus, StatusSnapshot } from '../daemon/status.js';
import { runCli } from './index.js';

const TOKEN = 'contract-token-51c0';
const dir = mkdtempSync(path.join(tmpdir(), 'hb-cli-contract-'));
const TOKEN_FILE = path.join(dir, 'token');
const WRONG_FILE = path.join(dir, 'wrong');
writeFileSync(TOKEN_FILE, TOKEN, { mode: 0o600 });
writeFileSync(WRONG_FILE, 'nope', { mode: 0o600 });
after(() => rmSync(dir, { recursive: true, force: true }));

const SNAPSHOT: StatusSnapshot = {
  node: 'cookbook',
  role: 'active',
  rscstatus: 'all',
  healthy: true,
  healthReasons: [],
  standby: false,
  maintenance: false,
  groups: [{ id: '10.77.0.100', preferred: 'cookbook', holder: 'cookbook', localClaim: 'held', vips: [{ address: '10.77.0.100', present: true }] }],
  peers: [
    { node: 'cookbook2', state: 'up', lastHeardAgoMs: 300, rttMs: 0.2, generation: 2, healthy: true, standby: false, maintenance: false, paths: [{ path: 'ucast:eth0', state: 'up', lastHeardAgoMs: 300 }] },
  ],
  lastTransition: null,
  containers: [{ group: '10.77.0.100', name: 'web', dockerUp: true, dockerError: null, state: 'running', health: 'healthy', healthWaiting: null }],
  configHash: 'abc',
  ready: true,
  reload: { at: '2026-11-30T14:00:00.000Z', trigger: 'SIGHUP', result: 'refused', problems: ['ha.cf:3: keepalive must be shorter than deadtime'], applied: [], restart: [] },
};

const APPLIED: ReloadStatus = { at: '2026-11-30T14:05:00.000Z', trigger: 'api', result: 'applied', problems: [], applied: ['timing', 'keys'], restart: ['api'] };

function daemon(adminToken: string | null, reloadOutcome: ReloadStatus = APPLIED) {
  const calls: string[] = [];
  const app = buildApi({
    status: () => SNAPSHOT,
    registry: new Registry(),
    admin: {
      standby: () => void calls.push('standby'),
      takeover: () => void calls.push('takeover'),
      maintenance: (enabled) => void calls.push(`maintenance ${enabled}`),
      reload: async () => (calls.push('reload'), reloadOutcome),
    },
    adminToken,
    logger: pino({ level: 'silent' }),
  });
  const viaInject = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const r = await app.inject({
      method: (init?.method ?? 'GET') as 'GET' | 'POST',
      url: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init?.headers)),
      ...(typeof init?.body === 'string' ? { payload: init.body } : {}),
    });
    return new Response(r.statusCode === 204 ? null : r.body, { status: r.statusCode, headers: { 'content-type': String(r.headers['content-type'] ?? '') } });
  }) as typeof fetch;
  return { calls, fetch: viaInject };
}

async function cli(d: ReturnType<typeof daemon>, argv1: string, args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(['/usr/bin/node', argv1, ...args], env, {
    runDaemon: async () => assert.fail('not a daemon test'),
    checkConfig: async () => assert.fail('not a config test'),
    fetch: d.fetch,
    out: (s) => (out += s),
    err: (s) => (err += s),
  });
  return { code, out, err };
}

describe('CLI and API agree', () => {
  test('status, cl_status rscstatus -m and listnodes read the real /status', async () => {
    const d = daemon(TOKEN);
    const status = await cli(d, 'heartbeat-sidecar', ['status']);
    assert.equal(status.code, 0, status.err);
    assert.match(status.out, /^10\.77\.0\.100 +cookbook +cookbook +held/m);
    assert.deepEqual(await cli(d, '/usr/local/bin/cl_status', ['rscstatus', '-m']), { code: 0, out: 'This node is holding all resources.\n', err: '' });
    assert.deepEqual(await cli(d, '/usr/local/bin/cl_status', ['listnodes']), { code: 0, out: 'cookbook\ncookbook2\n', err: '' });
  });

  test('admin commands with the right token reach the daemon; maintenance passes the body schema', async () => {
    const d = daemon(TOKEN);
    const env = { HB_API_TOKEN_FILE: TOKEN_FILE };
    for (const args of [['standby'], ['takeover'], ['maintenance', 'on'], ['maintenance', 'off']]) {
      const r = await cli(d, 'heartbeat-sidecar', args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    }
    assert.equal((await cli(d, '/usr/local/bin/hb_standby', [], env)).code, 0);
    assert.equal((await cli(d, '/usr/local/bin/hb_takeover', [], env)).code, 0);
    assert.deepEqual(d.calls, ['standby', 'takeover', 'maintenance true', 'maintenance false', 'standby', 'takeover']);
  });

  test('reload says what was applied and what waits for a restart; a refused one lists the problems and exits 1', async () => {
    const env = { HB_API_TOKEN_FILE: TOKEN_FILE };
    const applied = await cli(daemon(TOKEN), 'heartbeat-sidecar', ['reload'], env);
    assert.deepEqual(applied, { code: 0, out: 'reload applied: timing, keys\ntaking effect at the next restart: api\n', err: '' });
    const d = daemon(TOKEN, SNAPSHOT.reload!);
    const refused = await cli(d, 'heartbeat-sidecar', ['reload'], env);
    assert.equal(refused.code, 1);
    assert.equal(refused.out, 'reload refused; the daemon runs on with its current configuration:\nha.cf:3: keepalive must be shorter than deadtime\n');
    assert.deepEqual(d.calls, ['reload']);
  });

  test('a wrong token is refused by the API and said in one line', async () => {
    const d = daemon(TOKEN);
    const r = await cli(d, 'heartbeat-sidecar', ['standby', '--token-file', WRONG_FILE]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^heartbeat-sidecar: POST \/v1\/standby refused with HTTP 401 HB_API_TOKEN_WRONG: .*\n$/);
    assert.deepEqual(d.calls, []);
  });

  test('a daemon without a token refuses admin actions and says how to configure one', async () => {
    const d = daemon(null);
    const r = await cli(d, '/usr/local/bin/hb_standby', [], { HB_API_TOKEN_FILE: TOKEN_FILE });
    assert.equal(r.code, 1);
    assert.match(r.err, /^hb_standby: POST \/v1\/standby refused with HTTP 403 HB_API_ADMIN_DISABLED: .*HB_API_TOKEN_FILE/);
    assert.deepEqual(d.calls, []);
  });
});
