import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RscStatus, StatusSnapshot } from '../daemon/status.js';
import type { PeerLiveness } from '../domain/peers.js';
import { VERSION } from '../version.js';
import { runCli, type CliDeps, type DaemonSource } from './index.js';

const TOKEN = 'tok-9d1e2f';
const tokenDir = mkdtempSync(path.join(tmpdir(), 'hb-cli-test-'));
const TOKEN_FILE = path.join(tokenDir, 'api-token');
writeFileSync(TOKEN_FILE, `${TOKEN}\n`, { mode: 0o600 });
const EMPTY_TOKEN_FILE = path.join(tokenDir, 'empty');
writeFileSync(EMPTY_TOKEN_FILE, '\n', { mode: 0o600 });
after(() => rmSync(tokenDir, { recursive: true, force: true }));

function snapshot(over: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    node: 'cookbook2',
    role: 'standby',
    rscstatus: 'none',
    healthy: true,
    healthReasons: [],
    standby: false,
    maintenance: false,
    groups: [{ id: '10.77.0.100', preferred: 'cookbook', holder: 'cookbook', localClaim: 'none', vips: [{ address: '10.77.0.100', present: false }] }],
    peers: [peer('cookbook', 'up')],
    lastTransition: { group: '10.77.0.100', from: 'releasing', to: 'none', reason: 'failback:cookbook', at: '2025-03-01T12:00:00.000Z' },
    containers: [],
    configHash: 'c0ffee12',
    ready: true,
    reload: null,
    ...over,
  };
}

function peer(node: string, state: PeerLiveness) {
  return {
    node,
    state,
    lastHeardAgoMs: state === 'unknown' ? null : 412,
    rttMs: state === 'unknown' ? null : 0.314,
    generation: 3,
    healthy: true,
    standby: false,
    maintenance: false,
    paths: [{ path: 'ucast:eth0', state, lastHeardAgoMs: state === 'unknown' ? null : 412 }],
  };
}

interface Seen {
  method: string;
  url: string;
  authorization: string | null;
  body: unknown;
}

type Answer = Response | Error | ((req: Seen) => Response);

/** A fetch that answers from a table, keyed `METHOD path`; anything else is a 404 like the API's. */
function fakeFetch(routes: Record<string, Answer>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchFn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    const req: Seen = {
      method: init?.method ?? 'GET',
      url: url.href,
      authorization: headers.get('authorization'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    const answer = routes[`${req.method} ${url.pathname}`];
    if (answer === undefined) return json(404, { statusCode: 404, code: 'HB_API_NOT_FOUND', message: 'no route' });
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer(req) : answer.clone();
  };
  return { fetch: fetchFn as typeof fetch, seen };
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** What Node's fetch throws when nothing listens. */
function refused(): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9694'), { code: 'ECONNREFUSED' }) });
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], opts: { fetch?: typeof fetch; env?: Record<string, string | undefined>; as?: string; deps?: Partial<CliDeps> } = {}): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(['/usr/bin/node', opts.as ?? '/app/dist/sidecar/src/main.js', ...args], opts.env ?? {}, {
    runDaemon: async () => assert.fail('runDaemon must not be called'),
    checkConfig: async () => assert.fail('checkConfig must not be called'),
    ...(opts.fetch === undefined ? {} : { fetch: opts.fetch }),
    out: (s) => (out += s),
    err: (s) => (err += s),
    ...opts.deps,
  });
  return { code, out, err };
}

function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.equal(r.out, '');
  assert.equal(r.err.split('\n').filter(Boolean).length, 1, `not one line: ${r.err}`);
  assert.match(r.err, pattern);
  assert.doesNotMatch(r.err, /\n\s+at /, 'a stack trace');
}

describe('heartbeat-sidecar status', () => {
  test('a human table from /status: node, role, rscstatus, groups with holder, peers, last transition', async () => {
    const api = fakeFetch({ 'GET /status': json(200, snapshot()) });
    const r = await cli(['status'], { fetch: api.fetch });
    assert.equal(r.code, 0, r.err);
    assert.equal(api.seen[0]!.url, 'http://127.0.0.1:9694/status');
    assert.match(r.out, /^Node: +cookbook2$/m);
    assert.match(r.out, /^Role: +standby$/m);
    assert.match(r.out, /^rscstatus: +none \(This node is holding none resources\.\)$/m);
    assert.match(r.out, /^GROUP +PREFERRED +HOLDER +THIS NODE +VIPS$/m);
    assert.match(r.out, /^10\.77\.0\.100 +cookbook +cookbook +none +10\.77\.0\.100 \(not here\)$/m);
    assert.match(r.out, /^PEER +STATE +LAST HEARD +RTT +HEALTH +PATHS$/m);
    assert.match(r.out, /^cookbook +up +412 ms ago +0\.31 ms +healthy +ucast:eth0 up 412 ms ago$/m);
    assert.match(r.out, /^Last transition: 10\.77\.0\.100 releasing -> none \(failback:cookbook\) at 2025-03-01T12:00:00\.000Z$/m);
  });

  test('unhealthy, standby, a silent peer and no transition yet are all said plainly', async () => {
    const s = snapshot({
      healthy: false,
      healthReasons: ['container web unhealthy'],
      standby: true,
      peers: [{ ...peer('cookbook', 'dead'), lastHeardAgoMs: 73_400 }, peer('cookbook3', 'unknown')],
      groups: [{ id: 'web', preferred: null, holder: null, localClaim: 'none', vips: [] }],
      lastTransition: null,
    });
    const r = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, s) }).fetch });
    assert.match(r.out, /^Health: +unhealthy: container web unhealthy$/m);
    assert.match(r.out, /^Operator: +standby$/m);
    assert.match(r.out, /^web +- +nobody +none/m);
    assert.match(r.out, /^cookbook +dead +73 s ago/m);
    assert.match(r.out, /^cookbook3 +unknown +never +- /m);
    assert.match(r.out, /^Last transition: none since start$/m);
  });

  test('protected containers get a table: Docker up or unreachable with its error, state, health', async () => {
    const plain = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, snapshot()) }).fetch });
    assert.doesNotMatch(plain.out, /CONTAINER/);
    const s = snapshot({
      containers: [
        { group: 'web', name: 'nginx', dockerUp: false, dockerError: 'connect ECONNREFUSED /var/run/docker.sock', state: 'running', health: 'none', healthWaiting: null },
        { group: 'db', name: 'pg', dockerUp: null, dockerError: null, state: null, health: null, healthWaiting: null },
        { group: 'api', name: 'haproxy', dockerUp: true, dockerError: null, state: 'running', health: 'unhealthy', healthWaiting: 'its health predates its last pause' },
      ],
    });
    const r = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, s) }).fetch });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^CONTAINER +GROUP +DOCKER +STATE +HEALTH$/m);
    assert.match(r.out, /^nginx +web +unreachable \(connect ECONNREFUSED \/var\/run\/docker\.sock\) +running +none$/m);
    assert.match(r.out, /^pg +db +not asked yet +\? +\?$/m);
    assert.match(r.out, /^haproxy +api +up +running +unhealthy \(not evidence: its health predates its last pause\)$/m);
  });

  test('the election: heartbeat in one line; etcd with its lease, time to the fence, whether etcd answers, and every group’s owner in etcd', async () => {
    const heartbeat = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, snapshot({ election: { backend: 'heartbeat' } })) }).fetch });
    assert.match(heartbeat.out, /^Election: +heartbeat \(the nodes among themselves, over the paths\)$/m);
    assert.doesNotMatch(heartbeat.out, /OWNER IN ETCD/);
    const election = { backend: 'etcd', lease: '7587883212345', fenceInMs: 2_250, storeReachable: true, onStoreLost: 'release', candidates: ['cookbook', 'cookbook2'], holders: { web: 'cookbook', db: null } } as const;
    const etcd = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, snapshot({ election })) }).fetch });
    assert.equal(etcd.code, 0, etcd.err);
    assert.match(etcd.out, /^Election: +etcd, lease 7587883212345, fence in 2\.3 s, etcd answers, on_store_lost release, registered: cookbook, cookbook2$/m);
    assert.match(etcd.out, /^GROUP +OWNER IN ETCD$/m);
    assert.match(etcd.out, /^web +cookbook$/m);
    assert.match(etcd.out, /^db +nobody$/m);
    const cut = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, snapshot({ election: { ...election, lease: null, fenceInMs: null, storeReachable: false } })) }).fetch });
    assert.match(cut.out, /^Election: +etcd, lease none, no fence \(nothing may be held\), etcd does not answer,/m);
  });

  test('--json prints the snapshot itself', async () => {
    const r = await cli(['status', '--json'], { fetch: fakeFetch({ 'GET /status': json(200, snapshot()) }).fetch });
    assert.deepEqual(JSON.parse(r.out), snapshot());
  });

  test("the API URL comes from --url, else HB_API_URL, else loopback on the daemon's HB_API_PORT; a path prefix is kept", async () => {
    const api = fakeFetch({ 'GET /status': json(200, snapshot()), 'GET /hb/status': json(200, snapshot()) });
    await cli(['status'], { fetch: api.fetch, env: { HB_API_URL: 'http://10.0.0.5:9000', HB_API_PORT: '9800' } });
    await cli(['status', '--url', 'http://proxy.example/hb/'], { fetch: api.fetch, env: { HB_API_URL: 'http://10.0.0.5:9000' } });
    await cli(['status'], { fetch: api.fetch, env: { HB_API_PORT: '9800' } });
    await cli(['status'], { fetch: api.fetch, env: { HB_API_URL: '', HB_API_PORT: '' } });
    assert.deepEqual(
      api.seen.map((s) => s.url),
      ['http://10.0.0.5:9000/status', 'http://proxy.example/hb/status', 'http://127.0.0.1:9800/status', 'http://127.0.0.1:9694/status'],
    );
  });

  test('a daemon that does not answer: one line naming the URL, exit 1, no stack trace', async () => {
    const r = await cli(['status'], { fetch: fakeFetch({ 'GET /status': refused() }).fetch });
    assert.equal(r.code, 1);
    assertOneLineError(r, /^heartbeat-sidecar: cannot reach the heartbeat-sidecar API at http:\/\/127\.0\.0\.1:9694 \(ECONNREFUSED\): is the daemon running\?/);
  });

  test("real loopback: Node's own fetch error against a closed port is the same one line", async () => {
    // A port the kernel just handed out and took back: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    const r = await cli(['status'], { env: { HB_API_URL: `http://127.0.0.1:${port}` } });
    assert.equal(r.code, 1);
    assertOneLineError(r, new RegExp(`cannot reach the heartbeat-sidecar API at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  test('a timeout, a bad URL, non-JSON and a foreign JSON each get one line', async () => {
    const timeout = await cli(['status'], { fetch: fakeFetch({ 'GET /status': new DOMException('The operation was aborted due to timeout', 'TimeoutError') }).fetch });
    assert.equal(timeout.code, 1);
    assertOneLineError(timeout, /no answer from the heartbeat-sidecar API at http:\/\/127\.0\.0\.1:9694 within 5 s/);

    const badUrl = await cli(['status', '--url', 'not a url'], { fetch: fakeFetch({}).fetch });
    assert.equal(badUrl.code, 1);
    assertOneLineError(badUrl, /"not a url" is not a URL/);

    const html = await cli(['status'], { fetch: fakeFetch({ 'GET /status': new Response('<html>hi</html>', { status: 200 }) }).fetch });
    assert.equal(html.code, 1);
    assertOneLineError(html, /did not answer JSON/);

    const foreign = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(200, { status: 'ok' }) }).fetch });
    assert.equal(foreign.code, 1);
    assertOneLineError(foreign, /not a heartbeat-sidecar status \(node: .*\); is the CLI the same version as the daemon\?/);
  });

  test('a 500 from the API is reported with its code', async () => {
    const r = await cli(['status'], { fetch: fakeFetch({ 'GET /status': json(500, { statusCode: 500, code: 'HB_API_INTERNAL', message: 'internal error: engine gone' }) }).fetch });
    assert.equal(r.code, 1);
    assertOneLineError(r, /GET \/status refused with HTTP 500 HB_API_INTERNAL: internal error: engine gone/);
  });
});

describe('admin commands', () => {
  const accepted = (action: string) => json(202, { accepted: true, action });
  const adminApi = () =>
    fakeFetch({ 'POST /v1/standby': accepted('standby'), 'POST /v1/takeover': accepted('takeover'), 'POST /v1/maintenance': (req) => json(202, { accepted: true, action: 'maintenance', ...(req.body as object) }) });

  test('standby, takeover and maintenance on|off POST with the bearer token from HB_API_TOKEN_FILE', async () => {
    const api = adminApi();
    const env = { HB_API_TOKEN_FILE: TOKEN_FILE };
    for (const args of [['standby'], ['takeover'], ['maintenance', 'on'], ['maintenance', 'off']]) {
      const r = await cli(args, { fetch: api.fetch, env });
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^${args.join(' ')}`));
    }
    assert.deepEqual(api.seen, [
      { method: 'POST', url: 'http://127.0.0.1:9694/v1/standby', authorization: `Bearer ${TOKEN}`, body: undefined },
      { method: 'POST', url: 'http://127.0.0.1:9694/v1/takeover', authorization: `Bearer ${TOKEN}`, body: undefined },
      { method: 'POST', url: 'http://127.0.0.1:9694/v1/maintenance', authorization: `Bearer ${TOKEN}`, body: { enabled: true } },
      { method: 'POST', url: 'http://127.0.0.1:9694/v1/maintenance', authorization: `Bearer ${TOKEN}`, body: { enabled: false } },
    ]);
  });

  test('--token-file wins over HB_API_TOKEN_FILE', async () => {
    const api = adminApi();
    const r = await cli(['standby', '--token-file', TOKEN_FILE], { fetch: api.fetch, env: { HB_API_TOKEN_FILE: '/nonexistent' } });
    assert.equal(r.code, 0, r.err);
    assert.equal(api.seen[0]!.authorization, `Bearer ${TOKEN}`);
  });

  test('no token file, an unreadable one or an empty one: one line, exit 1, nothing sent', async () => {
    const api = adminApi();
    const missing = await cli(['takeover'], { fetch: api.fetch });
    assert.equal(missing.code, 1);
    assertOneLineError(missing, /need the API token: pass --token-file FILE or set HB_API_TOKEN_FILE/);
    const unreadable = await cli(['takeover', '--token-file', path.join(tokenDir, 'nope')], { fetch: api.fetch });
    assert.equal(unreadable.code, 1);
    assertOneLineError(unreadable, /cannot read the token file .*nope: ENOENT/);
    const empty = await cli(['takeover', '--token-file', EMPTY_TOKEN_FILE], { fetch: api.fetch });
    assert.equal(empty.code, 1);
    assertOneLineError(empty, /is empty/);
    assert.deepEqual(api.seen, []);
  });

  test("the API's refusal is passed on with its code, and the token is not echoed", async () => {
    const wrong = fakeFetch({ 'POST /v1/standby': json(401, { statusCode: 401, code: 'HB_API_TOKEN_WRONG', message: 'the bearer token does not match the configured API token' }) });
    const r = await cli(['standby'], { fetch: wrong.fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
    assert.equal(r.code, 1);
    assertOneLineError(r, /POST \/v1\/standby refused with HTTP 401 HB_API_TOKEN_WRONG: the bearer token does not match/);
    assert.ok(!r.err.includes(TOKEN));
    const disabled = fakeFetch({ 'POST /v1/takeover': json(403, { statusCode: 403, code: 'HB_API_ADMIN_DISABLED', message: 'admin actions are refused because no API token is configured' }) });
    const d = await cli(['takeover'], { fetch: disabled.fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
    assert.equal(d.code, 1);
    assertOneLineError(d, /HB_API_ADMIN_DISABLED: admin actions are refused/);
  });

  test('maintenance takes exactly on or off', async () => {
    const api = adminApi();
    for (const args of [['maintenance'], ['maintenance', 'yes'], ['maintenance', 'on', 'now']]) {
      const r = await cli(args, { fetch: api.fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, /error:/);
    }
    assert.deepEqual(api.seen, []);
  });
});

describe('run and check-config', () => {
  async function sourceOf(args: string[], env: Record<string, string | undefined> = {}): Promise<DaemonSource> {
    let got: DaemonSource | undefined;
    const r = await cli(args, { env, deps: { runDaemon: async (s) => void (got = s) } });
    assert.equal(r.code, 0, r.err);
    return got!;
  }

  test('run reads the Heartbeat files in /etc/ha.d unless told otherwise', async () => {
    assert.deepEqual(await sourceOf(['run']), { configPath: null, haDir: '/etc/ha.d' });
    assert.deepEqual(await sourceOf(['run'], { HB_CONFIG: '', HB_HA_DIR: '' }), { configPath: null, haDir: '/etc/ha.d' });
  });

  test('run takes --config and --ha-dir, or HB_CONFIG and HB_HA_DIR; flags win', async () => {
    assert.deepEqual(await sourceOf(['run'], { HB_CONFIG: '/etc/hb.yaml', HB_HA_DIR: '/cfg' }), { configPath: '/etc/hb.yaml', haDir: '/cfg' });
    assert.deepEqual(await sourceOf(['run', '--config', '/x.yaml', '--ha-dir', '/y'], { HB_CONFIG: '/etc/hb.yaml', HB_HA_DIR: '/cfg' }), { configPath: '/x.yaml', haDir: '/y' });
  });

  test("a daemon failure is rethrown, for the daemon's fatal path to hand over and exit", async () => {
    const boom = new Error('EADDRINUSE 0.0.0.0:9694');
    await assert.rejects(cli(['run'], { deps: { runDaemon: async () => Promise.reject(boom) } }), boom);
  });

  test('check-config prints the report and exits 1 on problems', async () => {
    let asked: DaemonSource | undefined;
    const problems = await cli(['check-config', '--ha-dir', '/cfg'], {
      deps: {
        checkConfig: async (s) => {
          asked = s;
          return { ok: false, text: '/cfg/authkeys: mode 644, must be 600 (chmod 600 /cfg/authkeys)\n/cfg/ha.cf:7: deadtime 2 must exceed 2 * keepalive' };
        },
      },
    });
    assert.deepEqual(asked, { configPath: null, haDir: '/cfg' });
    assert.equal(problems.code, 1);
    assert.match(problems.out, /^\/cfg\/authkeys: mode 644/m);
    assert.match(problems.out, /^\/cfg\/ha\.cf:7: deadtime/m);
    const fine = await cli(['check-config'], { deps: { checkConfig: async () => ({ ok: true, text: 'configuration OK (/etc/ha.d/ha.cf)' }) } });
    assert.equal(fine.code, 0);
    assert.equal(fine.out, 'configuration OK (/etc/ha.d/ha.cf)\n');
  });
});

describe('usage', () => {
  test('an unknown command or option: exit 2 with a hint', async () => {
    for (const args of [['frobnicate'], ['status', '--bogus'], ['standby', 'extra']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.err, /error: .*\n\(add --help for usage\)/);
    }
  });

  test('--help and --version exit 0 on stdout', async () => {
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    for (const word of ['run', 'status', 'standby', 'takeover', 'maintenance', 'check-config', 'cl_status', 'hb_standby']) assert.match(help.out, new RegExp(word));
    const version = await cli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.out, `${VERSION}\n`);
  });
});

describe('cl_status', () => {
  const viaSymlink = { as: '/usr/local/bin/cl_status' };

  for (const word of ['all', 'none', 'local', 'foreign', 'transition'] as RscStatus[]) {
    test(`rscstatus prints "${word}", and -m the sentence`, async () => {
      const fetch = fakeFetch({ 'GET /status': json(200, snapshot({ rscstatus: word })) }).fetch;
      const bare = await cli(['rscstatus'], { ...viaSymlink, fetch });
      assert.deepEqual(bare, { code: 0, out: `${word}\n`, err: '' });
      const human = await cli(['rscstatus', '-m'], { ...viaSymlink, fetch });
      assert.deepEqual(human, { code: 0, out: `This node is holding ${word} resources.\n`, err: '' });
    });
  }

  test('works as a symlink, as a first argument, and as a file named cl_status.js', async () => {
    const fetch = fakeFetch({ 'GET /status': json(200, snapshot({ rscstatus: 'all' })) }).fetch;
    for (const [as, args] of [
      ['/usr/local/bin/cl_status', ['rscstatus', '-m']],
      ['/app/dist/sidecar/src/main.js', ['cl_status', 'rscstatus', '-m']],
      ['/usr/local/bin/heartbeat-sidecar', ['cl_status', 'rscstatus', '-m']],
      ['/opt/cl_status.js', ['rscstatus', '-m']],
    ] as const) {
      const r = await cli([...args], { as, fetch });
      assert.deepEqual(r, { code: 0, out: 'This node is holding all resources.\n', err: '' }, as);
    }
  });

  test('rscstatus with the daemon down: one line on stderr and exit 1, as Heartbeat', async () => {
    const r = await cli(['rscstatus', '-m'], { ...viaSymlink, fetch: fakeFetch({ 'GET /status': refused() }).fetch });
    assert.equal(r.code, 1);
    assertOneLineError(r, /^cl_status: cannot reach the heartbeat-sidecar API/);
  });

  test("a timeout exits 12, Heartbeat's TIMEOUT", async () => {
    const r = await cli(['rscstatus'], { ...viaSymlink, fetch: fakeFetch({ 'GET /status': new DOMException('timeout', 'TimeoutError') }).fetch });
    assert.equal(r.code, 12);
    assertOneLineError(r, /^cl_status: no answer/);
  });

  test("hbstatus: Heartbeat's sentences, exit 1 when the daemon is not there", async () => {
    const up = await cli(['hbstatus'], { ...viaSymlink, fetch: fakeFetch({ 'GET /status': json(200, snapshot()) }).fetch });
    assert.deepEqual(up, { code: 0, out: 'Heartbeat is running on this machine.\n', err: '' });
    const down = await cli(['hbstatus'], { ...viaSymlink, fetch: fakeFetch({ 'GET /status': refused() }).fetch });
    assert.deepEqual(down, { code: 1, out: 'Heartbeat is stopped on this machine.\n', err: '' });
  });

  test('nodestatus: active for this node and live peers, dead for dead or departed ones, exit 1 unless active', async () => {
    const s = snapshot({ peers: [peer('alive', 'up'), peer('slow', 'late'), peer('gone', 'dead'), peer('left', 'left'), peer('never', 'unknown')] });
    const fetch = fakeFetch({ 'GET /status': json(200, s) }).fetch;
    const expect: [string, string, number][] = [
      ['cookbook2', 'active', 0],
      ['alive', 'active', 0],
      ['slow', 'active', 0],
      ['gone', 'dead', 1],
      ['left', 'dead', 1],
      ['never', 'dead', 1],
    ];
    for (const [node, word, code] of expect) {
      assert.deepEqual(await cli(['nodestatus', node], { ...viaSymlink, fetch }), { code, out: `${word}\n`, err: '' }, node);
    }
    assert.deepEqual(await cli(['nodestatus', '-m', 'gone'], { ...viaSymlink, fetch }), { code: 1, out: 'The cluster node gone is dead\n', err: '' });
  });

  test('nodestatus for a peer not yet heard during initdead is init, as in Heartbeat', async () => {
    const fetch = fakeFetch({ 'GET /status': json(200, snapshot({ ready: false, role: 'initdead', rscstatus: 'transition', peers: [peer('cookbook', 'unknown')] })) }).fetch;
    assert.deepEqual(await cli(['nodestatus', 'cookbook'], { ...viaSymlink, fetch }), { code: 1, out: 'init\n', err: '' });
  });

  test('nodestatus for a node not in the cluster: stderr and exit 11, as Heartbeat', async () => {
    const r = await cli(['nodestatus', 'mailhost'], { ...viaSymlink, fetch: fakeFetch({ 'GET /status': json(200, snapshot()) }).fetch });
    assert.equal(r.code, 11);
    assertOneLineError(r, /no node "mailhost" in this cluster/);
  });

  test('listnodes: every node, this one included, one per line; -m adds Heartbeat\'s header', async () => {
    const fetch = fakeFetch({ 'GET /status': json(200, snapshot({ peers: [peer('cookbook', 'up'), peer('backup', 'dead')] })) }).fetch;
    assert.deepEqual(await cli(['listnodes'], { ...viaSymlink, fetch }), { code: 0, out: 'backup\ncookbook\ncookbook2\n', err: '' });
    assert.equal((await cli(['listnodes', '-m'], { ...viaSymlink, fetch })).out, 'The nodes are as follow:\nbackup\ncookbook\ncookbook2\n');
  });

  test('an unknown sub-command or missing node exits 11, PARAMETER_ERROR', async () => {
    assert.equal((await cli(['clientstatus'], viaSymlink)).code, 11);
    assert.equal((await cli(['nodestatus'], viaSymlink)).code, 11);
  });
});

describe('hb_standby and hb_takeover', () => {
  test('hb_standby asks the API for standby with the token and says so as Heartbeat did', async () => {
    const api = fakeFetch({ 'POST /v1/standby': json(202, { accepted: true, action: 'standby' }) });
    for (const [as, args] of [
      ['/usr/local/bin/hb_standby', []],
      ['/usr/local/bin/hb_standby', ['all']],
      ['/app/dist/sidecar/src/main.js', ['hb_standby']],
    ] as const) {
      const r = await cli([...args], { as, fetch: api.fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
      assert.deepEqual(r, { code: 0, out: 'Going standby [all].\n', err: '' });
    }
    assert.equal(api.seen.length, 3);
    assert.ok(api.seen.every((s) => s.method === 'POST' && s.url === 'http://127.0.0.1:9694/v1/standby' && s.authorization === `Bearer ${TOKEN}`));
  });

  test('hb_takeover asks for takeover and, like Heartbeat, prints nothing on success', async () => {
    const api = fakeFetch({ 'POST /v1/takeover': json(202, { accepted: true, action: 'takeover' }) });
    const r = await cli(['--token-file', TOKEN_FILE], { as: '/usr/local/bin/hb_takeover', fetch: api.fetch });
    assert.deepEqual(r, { code: 0, out: '', err: '' });
    assert.equal(api.seen[0]!.url, 'http://127.0.0.1:9694/v1/takeover');
  });

  test('only "all" is supported: local, foreign and failback are refused before anything is sent', async () => {
    const api = fakeFetch({});
    for (const what of ['local', 'foreign', 'failback']) {
      const r = await cli([what], { as: '/usr/local/bin/hb_standby', fetch: api.fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
      assert.equal(r.code, 1);
      assertOneLineError(r, new RegExp(`^hb_standby: hb_standby ${what} is not supported`));
    }
    assert.deepEqual(api.seen, []);
  });

  test('with the daemon down: one line and exit 1', async () => {
    const r = await cli([], { as: '/usr/local/bin/hb_takeover', fetch: fakeFetch({ 'POST /v1/takeover': refused() }).fetch, env: { HB_API_TOKEN_FILE: TOKEN_FILE } });
    assert.equal(r.code, 1);
    assertOneLineError(r, /^hb_takeover: cannot reach/);
  });
});
