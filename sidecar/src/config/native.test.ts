import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatProblems } from './format.js';
import { loadConfig } from './load.js';
import type { ConfigProblem, LoadResult } from './load.js';
import { scratch } from '../../../test/support/scratch.js';
import type { Config } from './types.js';

const files = await scratch();
after(() => files.remove());

const MINIMAL = `
nodes: [alpha, beta]
paths:
  - {ucast: {iface: eth0, peers: [10.77.0.11, 10.77.0.12]}}
auth: {send_key: 1, keys: [{id: 1, secret: not-for-production}]}
`;

async function load(yaml: string, opts: { env?: Record<string, string>; hostname?: string; extra?: Record<string, string>; modes?: Record<string, number> } = {}): Promise<LoadResult & { dir: string }> {
  const dir = await files.dir({ 'sidecar.yaml': yaml, ...opts.extra }, opts.modes);
  const result = await loadConfig({ configPath: join(dir, 'sidecar.yaml'), env: opts.env ?? {}, hostname: opts.hostname ?? 'alpha', interfaces: ['lo', 'eth0'] });
  return { ...result, dir };
}

async function loaded(yaml: string, opts: Parameters<typeof load>[1] = {}): Promise<Config> {
  const r = await load(yaml, opts);
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  return r.config;
}

async function refused(yaml: string, opts: Parameters<typeof load>[1] = {}): Promise<readonly ConfigProblem[]> {
  const r = await load(yaml, opts);
  assert.equal(r.ok, false, 'expected the configuration to be refused');
  return r.ok ? [] : r.problems;
}

/** [line, key, rule] of each problem, to compare whole lists. */
const summary = (problems: readonly ConfigProblem[]) => problems.map((p) => [p.line, p.key, p.rule]);

describe('native YAML', () => {
  test('a minimal file gets the fast native defaults', async () => {
    const c = await loaded(MINIMAL);
    assert.equal(c.source.kind, 'yaml');
    assert.equal(c.node, 'alpha', 'the host name');
    assert.deepEqual(c.timing, { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 });
    assert.equal(c.port, 694);
    assert.equal(c.autoFailback, true);
    assert.deepEqual(c.groups, []);
    assert.deepEqual(c.auth, { sendKeyId: 1, keys: [{ id: 1, method: 'sha256', secret: Buffer.from('not-for-production') }] });
    assert.deepEqual(c.api, { host: '0.0.0.0', port: 9694, tokenFile: null });
    assert.equal(c.vipLeaseSec, 2);
    assert.equal(c.reconcileMs, 500);
    assert.deepEqual(c.garp, { burst: 3, repeatAfterMs: 1000, refreshMs: 0 });
    assert.equal(c.notifyCommand, null);
    assert.deepEqual(c.log, { level: 'info', file: null });
    assert.ok(Object.isFrozen(c.paths[0]));
  });

  test('a full file, with every medium, both VIP forms and a secret file', async () => {
    const yaml = `
node: beta
nodes: [{name: alpha, priority: 100}, {name: beta, priority: 50}]
udpport: 6694
paths:
  - {ucast: {iface: eth0, peers: [10.77.0.12]}}
  - mcast:
      iface: eth0
      group: 239.0.0.94
      ttl: 2
      loop: true
  - {bcast: {iface: eth0}}
keepalive: 200ms
warntime: 0.5
deadtime: "1.5s"
initdead: 4
auto_failback: off
groups:
  - name: web
    preferred: alpha
    vips: ["10.77.0.100/24/eth0:1", {address: "FD00::100", prefix: 64, iface: eth0}]
    container: {name: web, project: shop, on_acquire: restart, on_release: stop, stop_timeout: 30s}
  - name: db
    vips: [10.77.0.101/24/eth0]
auth: {send_key: 2, keys: [{id: 1, method: sha1, secret: old}, {id: 2, secret_file: hb.key}]}
ping_nodes: [10.77.0.1]
api: {host: 127.0.0.1, port: 9700, token_file: token.key}
vip_lease: 3s
reconcile: 250ms
garp: {burst: 5, repeat_after: 2s, refresh: 30}
notify: /usr/local/bin/hb-notify
health: {http: {url: "http://127.0.0.1:8080/healthz", interval: 2s, timeout: 300ms, rise: 1, fall: 2}}
log: {level: debug, file: /var/log/hb.log}
`;
    const dir = await files.dir({ 'hb.key': 'rotated-secret\n', 'token.key': 'tok\n' });
    const c = await loaded(yaml.replace('secret_file: hb.key', `secret_file: ${join(dir, 'hb.key')}`).replace('token_file: token.key', `token_file: ${join(dir, 'token.key')}`));
    assert.equal(c.node, 'beta');
    assert.deepEqual(c.nodes, [
      { name: 'alpha', priority: 100 },
      { name: 'beta', priority: 50 },
    ]);
    assert.equal(c.port, 6694);
    assert.deepEqual(c.paths, [
      { kind: 'ucast', iface: 'eth0', peers: ['10.77.0.12'] },
      { kind: 'mcast', iface: 'eth0', group: '239.0.0.94', ttl: 2, loop: true },
      { kind: 'bcast', iface: 'eth0' },
    ]);
    assert.deepEqual(c.timing, { keepaliveMs: 200, warntimeMs: 500, deadtimeMs: 1500, initdeadMs: 4000 });
    assert.equal(c.autoFailback, false);
    assert.deepEqual(c.groups, [
      {
        id: 'web',
        preferred: 'alpha',
        vips: [
          { address: '10.77.0.100', prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 },
          { address: 'fd00::100', prefixLength: 64, iface: 'eth0', label: null, family: 6 },
        ],
        container: { name: 'web', onAcquire: 'restart', onRelease: 'stop', project: 'shop', stopTimeoutSec: 30 },
      },
      { id: 'db', preferred: null, vips: [{ address: '10.77.0.101', prefixLength: 24, iface: 'eth0', label: null, family: 4 }], container: null },
    ]);
    assert.deepEqual(c.auth, {
      sendKeyId: 2,
      keys: [
        { id: 1, method: 'sha1', secret: Buffer.from('old') },
        { id: 2, method: 'sha256', secret: Buffer.from('rotated-secret') },
      ],
    });
    assert.deepEqual(c.pingNodes, ['10.77.0.1']);
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 9700, tokenFile: join(dir, 'token.key') });
    assert.equal(c.vipLeaseSec, 3);
    assert.equal(c.reconcileMs, 250);
    assert.deepEqual(c.garp, { burst: 5, repeatAfterMs: 2000, refreshMs: 30_000 });
    assert.equal(c.notifyCommand, '/usr/local/bin/hb-notify');
    assert.deepEqual(c.log, { level: 'debug', file: '/var/log/hb.log' });
    assert.deepEqual(c.health, { http: { url: 'http://127.0.0.1:8080/healthz', intervalMs: 2000, timeoutMs: 300, rise: 1, fall: 2 } });
  });

  test('a container gets the default policy; no health section means no HTTP check', async () => {
    const c = await loaded(`${MINIMAL}groups: [{name: web, vips: [10.77.0.100/24/eth0], container: {name: web}}]\n`);
    assert.deepEqual(c.groups[0]!.container, { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause', project: null, stopTimeoutSec: 10 });
    assert.deepEqual(c.health, { http: null });
    const h = await loaded(`${MINIMAL}health: {http: {url: "http://127.0.0.1/"}}\n`);
    assert.deepEqual(h.health, { http: { url: 'http://127.0.0.1/', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3 } });
  });

  test('a bad container policy, an unknown container key and a bad health URL', async () => {
    const problems = await refused(`${MINIMAL}groups: [{name: web, vips: [10.77.0.100/24/eth0], container: {name: web, on_acquire: resume, on_relase: stop}}]
health: {http: {url: "ftp://x/"}}
`);
    assert.deepEqual(summary(problems), [
      [6, 'groups[0].container.on_acquire', 'invalid-value'],
      [6, 'groups[0].container.on_relase', 'unknown-key'],
      [7, 'health.http.url', 'invalid-value'],
    ]);
  });

  test('the VIP lease follows deadtime, in whole seconds, never under 2 s', async () => {
    assert.equal((await loaded(`${MINIMAL}deadtime: 3.5s\nwarntime: 1s\ninitdead: 5s\n`)).vipLeaseSec, 4);
  });

  test('HB_NODE beats the YAML node, which beats the host name', async () => {
    assert.equal((await loaded(`node: beta\n${MINIMAL}`, { hostname: 'gamma' })).node, 'beta');
    assert.equal((await loaded(`node: beta\n${MINIMAL}`, { hostname: 'gamma', env: { HB_NODE: 'alpha' } })).node, 'alpha');
  });

  test('HB_* variables override the file, and empty ones are ignored', async () => {
    const env = { HB_KEEPALIVE: '1s', HB_WARNTIME: '2', HB_DEADTIME: '3s', HB_INITDEAD: '10s', HB_UDPPORT: '700', HB_AUTO_FAILBACK: 'no', HB_API_PORT: '8080', HB_LOG_LEVEL: 'warn', HB_RECONCILE: '1s', HB_VIP_LEASE: '', HB_API_HOST: '' };
    const c = await loaded(`${MINIMAL}keepalive: 50ms\nudpport: 695\n`, { env });
    assert.deepEqual(c.timing, { keepaliveMs: 1000, warntimeMs: 2000, deadtimeMs: 3000, initdeadMs: 10_000 });
    assert.equal(c.port, 700);
    assert.equal(c.autoFailback, false);
    assert.deepEqual(c.api, { host: '0.0.0.0', port: 8080, tokenFile: null });
    assert.equal(c.log.level, 'warn');
    assert.equal(c.reconcileMs, 1000);
    assert.equal(c.vipLeaseSec, 3);
  });
});

describe('native YAML refusals name the line', () => {
  test('an unknown key, a bad nested value and a bad VIP, all at once', async () => {
    const problems = await refused(`${MINIMAL}deadtyme: 3s
groups:
  - name: web
    vips:
      - 10.77.0.100/33/eth0
api:
  port: 70000
`);
    assert.deepEqual(summary(problems), [
      [6, 'deadtyme', 'unknown-key'],
      [10, 'groups[0].vips[0]', 'invalid-value'],
      [12, 'api.port', 'invalid-value'],
    ]);
    assert.match(problems[0]!.fix, /known keys here: .*deadtime/);
    assert.match(formatProblems([problems[1]!]), /sidecar\.yaml:10: groups\[0\]\.vips\[0\]: VIP 10\.77\.0\.100: prefix length "33" is not from 1 to 32 — fix: write 10\.77\.0\.100\/24\/eth0$/);
  });

  test('syntax errors and duplicate keys', async () => {
    const unclosed = await refused('nodes: [alpha\npaths: []\n');
    assert.deepEqual([unclosed[0]!.line, unclosed[0]!.rule], [2, 'yaml-syntax']);
    const dup = await refused(`${MINIMAL}keepalive: 1s\nkeepalive: 2s\n`);
    assert.deepEqual(summary(dup), [[7, null, 'yaml-syntax']]);
    assert.equal(dup[0]!.fix, 'remove one of the two keys');
  });

  test('a refused secret is never echoed in the problem', async () => {
    const problems = await refused(MINIMAL.replace('secret: not-for-production', 'secret: 8472619305'));
    const text = formatProblems(problems);
    assert.match(text, /auth\.keys\[0\]\.secret: is not a non-empty string \(the value is not shown: it is a secret\)/);
    assert.doesNotMatch(text, /8472619305/);
  });

  test('a file that is not a mapping', async () => {
    assert.deepEqual(summary(await refused('- alpha\n- beta\n')), [[1, null, 'wrong-type']]);
  });

  test('missing sections, and a wrong type', async () => {
    const problems = await refused('nodes: alpha\n');
    assert.deepEqual(summary(problems), [
      [null, 'paths', 'missing-key'],
      [null, 'auth', 'missing-key'],
      [1, 'nodes', 'wrong-type'],
    ]);
    assert.equal(problems[1]!.fix, 'add auth with send_key, keys');
  });

  test('cross-checks point at the key that breaks them', async () => {
    const problems = await refused(`node: alpha
nodes: [alpha, beta]
paths: []
keepalive: 1s
groups:
  - name: web
    preferred: gamma
    vips: [10.77.0.100/24/eth1]
auth: {send_key: 2, keys: [{id: 1, secret: s}]}
`);
    assert.deepEqual(summary(problems), [
      [3, 'paths', 'no-path'],
      [4, 'keepalive', 'deadtime-too-small'],
      [4, 'keepalive', 'warntime-out-of-range'],
      [7, 'groups[0].preferred', 'node-undeclared'],
      [8, 'groups[0].vips[0]', 'iface-missing'],
      [9, 'auth.send_key', 'send-key-missing'],
    ]);
    assert.match(problems[0]!.fix, /paths: \[\{ucast:/);
  });

  test('a node that is not declared, named by HB_NODE', async () => {
    const problems = await refused(MINIMAL, { env: { HB_NODE: 'gamma' } });
    assert.deepEqual(summary(problems), [[null, 'HB_NODE', 'own-node-undeclared']]);
    assert.match(formatProblems(problems), /^HB_NODE: this node is gamma \(from HB_NODE\), which is not a declared node \(alpha, beta\) — fix: add gamma to nodes/);
  });

  test('a bad override names the variable and the key', async () => {
    const problems = await refused(MINIMAL, { env: { HB_API_PORT: 'http' } });
    assert.equal(formatProblems(problems), 'HB_API_PORT: api.port: "http" is not a whole number from 1 to 65535 — fix: write a whole number from 1 to 65535');
  });

  test('a VIP lease in milliseconds, or too short for reconcile', async () => {
    assert.deepEqual(summary(await refused(`${MINIMAL}vip_lease: 1500ms\n`)), [[6, 'vip_lease', 'invalid-value']]);
    assert.deepEqual(summary(await refused(`${MINIMAL}vip_lease: 1\nreconcile: 1s\n`)), [[6, 'vip_lease', 'vip-lease-too-short']]);
  });

  test('groups whose heartbeat would not fit one datagram: refused at the groups, with the bytes to cut', async () => {
    const group = (i: number) => `{name: ${String(i).padStart(3, '0')}${'g'.repeat(57)}, vips: [10.77.0.${100 + i}/24/eth0]}`;
    const yaml = (n: number) => `${MINIMAL}groups: [${Array.from({ length: n }, (_, i) => group(i)).join(', ')}]\n`;
    // alpha's heartbeat: 7 + 6 + 31 fixed, 1 + 62 per group, an echo of beta (1 + 5 + 12 + 1), a 32-byte sha256 MAC.
    await loaded(yaml(21));
    const problems = await refused(yaml(22));
    assert.deepEqual(summary(problems), [[6, 'groups', 'heartbeat-too-big']]);
    assert.match(formatProblems(problems), /a heartbeat from alpha would be 1459 bytes \(its name, 22 groups, 1 peer\), over the 1400 bytes of one datagram — fix: shorten group ids or node names by 59 bytes in all/);
  });

  test('a secret file open to others, and one that is missing', async () => {
    const open = await files.dir({ 'hb.key': 'secret\n' }, { 'hb.key': 0o640 });
    const problems = await refused(MINIMAL.replace('secret: not-for-production', `secret_file: ${join(open, 'hb.key')}`).replace('send_key: 1, keys: [', `send_key: 1, keys: [{id: 2, secret_file: ${join(open, 'none.key')}}, `));
    assert.deepEqual(
      problems.map((p) => [p.file, p.rule, p.fix]),
      [
        [join(open, 'none.key'), 'file-unreadable', `create ${join(open, 'none.key')} or correct the path`],
        [join(open, 'hb.key'), 'secret-file-mode', `chmod 600 ${join(open, 'hb.key')}`],
      ],
    );
  });

  test('a schema problem, a cross-check and secret files that are open to others or missing, in one pass', async () => {
    const secrets = await files.dir({ 'hb.key': 'Zx8k2PqLm4Nw7Rt1Vb5Yc9\n' }, { 'hb.key': 0o644 });
    const problems = await refused(`nodes: [alpha, beta]
paths: [{ucast: {iface: eth0, peers: [10.77.0.11, 10.77.0.12]}}]
udpport: 70000
groups: [{name: web, preferred: gamma, vips: [10.77.0.100/24/eth0]}]
auth: {send_key: 1, keys: [{id: 1, secret_file: ${join(secrets, 'hb.key')}}]}
api: {token_file: ${join(secrets, 'none.key')}}
`);
    assert.deepEqual(summary(problems), [
      [3, 'udpport', 'invalid-value'],
      [4, 'groups[0].preferred', 'node-undeclared'],
      [null, 'auth.keys[0].secret_file', 'secret-file-mode'],
      [null, 'api.token_file', 'file-unreadable'],
    ]);
    assert.deepEqual(
      problems.map((p) => p.fix),
      ['write a whole number from 1 to 65535', 'add gamma to nodes, or correct the name', `chmod 600 ${join(secrets, 'hb.key')}`, `create ${join(secrets, 'none.key')} or correct the path`],
    );
  });

  test('a value the schema refuses is not judged again by a cross-check', async () => {
    // beta's entry is refused, so whether beta is declared is not judged; neither is deadtime
    // against a keepalive that is no duration, nor the send key against a list missing key 2.
    const problems = await refused(`node: beta
nodes: [alpha, {name: beta, priority: -1}]
paths: [{ucast: {iface: eth0, peers: [10.77.0.11]}}]
keepalive: fast
groups: [{name: web, preferred: beta, vips: [10.77.0.100/24/eth0]}]
auth: {send_key: 2, keys: [{id: 1, secret: not-for-production}, {id: 2, method: sha512, secret: not-for-production}]}
`);
    assert.deepEqual(summary(problems), [
      [2, 'nodes[1].priority', 'invalid-value'],
      [4, 'keepalive', 'invalid-value'],
      [6, 'auth.keys[1].method', 'invalid-value'],
    ]);
  });

  test('a node is a name or {name, priority}: a bad name is invalid where it was written', async () => {
    const problems = await refused(MINIMAL.replace('nodes: [alpha, beta]', 'nodes: [alpha, beta, -dash, 5, [gamma], {name: x y}]'));
    assert.deepEqual(summary(problems), [
      [2, 'nodes[2]', 'invalid-value'],
      [2, 'nodes[3]', 'invalid-value'],
      [2, 'nodes[4]', 'invalid-value'],
      [2, 'nodes[5].name', 'invalid-value'],
    ]);
    assert.match(problems[0]!.message, /^nodes\[2\]: "-dash" is not a node name .*starting with a letter or digit\)$/);
    assert.match(problems[1]!.message, /^nodes\[3\]: 5 is not a node: a node is a name, or a mapping \{name, priority\}$/);
    assert.match(problems[1]!.fix, /"5" in quotes .*\{name: alpha, priority: 100\}/);
    assert.match(problems[3]!.message, /"x y" is not a node name/);
  });

  test('a list, a mapping or null as a key is refused at its line, without a warning on stderr', async () => {
    const warned: string[] = [];
    const onWarning = (w: Error) => warned.push(w.message);
    process.on('warning', onWarning);
    try {
      const problems = await refused(`${MINIMAL}? [a, b]\n: 1\n{a: 1}: x\nnull: y\napi:\n  ? [host]\n  : 127.0.0.1\n  port: 9700\nudpport: 0\n`);
      // Process warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(summary(problems), [
        [6, '[a, b]', 'unknown-key'],
        [8, '{a: 1}', 'unknown-key'],
        [9, 'null', 'unknown-key'],
        [11, 'api.[host]', 'unknown-key'],
        [14, 'udpport', 'invalid-value'],
      ]);
      assert.equal(problems[0]!.message, 'the key "[a, b]" is a list; a key must be a plain name');
      assert.equal(problems[1]!.message, 'the key "{a: 1}" is a mapping; a key must be a plain name');
      assert.equal(problems[2]!.message, 'the key "null" is null in YAML; a key must be a plain name');
      assert.match(problems[3]!.fix, /known here \(host, port, token_file\)/);
      assert.deepEqual(warned, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('a key that is an alias of a list is refused too', async () => {
    const problems = await refused(`${MINIMAL}x: &l [a]\n? *l\n: 1\n`);
    assert.deepEqual(summary(problems), [
      [6, 'x', 'unknown-key'],
      [7, '*l', 'unknown-key'],
    ]);
  });

  test('a key with both a secret and a secret file (which does not exist), and a path with two media', async () => {
    const problems = await refused(`nodes: [alpha]
auth: {send_key: 1, keys: [{id: 1, secret: a, secret_file: /nonexistent/hb.key}]}
paths:
  - {bcast: {iface: eth0}, ucast: {iface: eth0, peers: [10.77.0.12]}}
`);
    assert.deepEqual(summary(problems), [
      [2, 'auth.keys[0]', 'invalid-value'],
      [4, 'paths[0]', 'invalid-value'],
      [null, 'auth.keys[0].secret_file', 'file-unreadable'],
    ]);
  });
});
