import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatProblems } from './format.js';
import { loadConfig } from './load.js';
import type { ConfigProblem, LoadResult } from './load.js';
import { scratch } from '../../../test/support/scratch.js';
import type { Config } from './types.js';

const RECIPE_DIR = fileURLToPath(new URL('../../../examples/heartbeat-recipe/', import.meta.url));
const RECIPE = {
  'ha.cf': await readFile(join(RECIPE_DIR, 'ha.cf'), 'utf8'),
  authkeys: await readFile(join(RECIPE_DIR, 'authkeys'), 'utf8'),
  haresources: await readFile(join(RECIPE_DIR, 'haresources'), 'utf8'),
};
/** The recipe's own addresses, taken from its files: they belong to the recipe, not to any test. */
const RECIPE_PEERS = [...RECIPE['ha.cf'].matchAll(/^ucast eth0 (\S+)$/gm)].map((m) => m[1]!);
const RECIPE_VIP = /^cookbook IPaddr::([^/]+)\/24\/eth0:1$/m.exec(RECIPE.haresources)![1]!;
const files = await scratch();
after(() => files.remove());

interface Setup {
  readonly haCf?: string;
  readonly authkeys?: string;
  readonly haresources?: string;
  readonly modes?: Record<string, number>;
  readonly omit?: 'haresources';
  readonly env?: Record<string, string>;
  readonly hostname?: string;
  readonly interfaces?: readonly string[] | null;
}

/** The recipe, with any of its files replaced. */
async function load(s: Setup = {}): Promise<LoadResult & { dir: string }> {
  const texts = { 'ha.cf': s.haCf ?? RECIPE['ha.cf'], authkeys: s.authkeys ?? RECIPE.authkeys, haresources: s.haresources ?? RECIPE.haresources };
  const dir = await files.dir(Object.fromEntries(Object.entries(texts).filter(([name]) => name !== s.omit)), s.modes);
  const result = await loadConfig({ haDir: dir, env: s.env ?? {}, hostname: s.hostname ?? 'cookbook', interfaces: s.interfaces === undefined ? ['lo', 'eth0'] : s.interfaces });
  return { ...result, dir };
}

async function loaded(s: Setup = {}): Promise<Config> {
  const r = await load(s);
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  return r.config;
}

async function problemsOf(s: Setup): Promise<{ problems: readonly ConfigProblem[]; dir: string }> {
  const r = await load(s);
  assert.equal(r.ok, false, 'expected the configuration to be refused');
  return { problems: r.ok ? [] : r.problems, dir: r.dir };
}

const recipeWith = (from: string, to: string) => {
  assert.ok(RECIPE['ha.cf'].includes(from));
  return RECIPE['ha.cf'].replace(from, to);
};

describe('the recipe', () => {
  test('loads unchanged on its primary', async () => {
    const r = await load();
    assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
    const c = r.config;
    assert.deepEqual(c.source, { kind: 'heartbeat', files: ['ha.cf', 'authkeys', 'haresources'].map((f) => join(r.dir, f)) });
    assert.equal(c.node, 'cookbook');
    assert.deepEqual(c.nodes, [
      { name: 'cookbook', priority: 0 },
      { name: 'cookbook2', priority: 0 },
    ]);
    assert.equal(RECIPE_PEERS.length, 2);
    assert.deepEqual(c.paths, [{ kind: 'ucast', iface: 'eth0', peers: RECIPE_PEERS }]);
    // initdead is Heartbeat's derived default for deadtime 10 s: 2 × deadtime.
    assert.deepEqual(c.timing, { keepaliveMs: 1000, warntimeMs: 5000, deadtimeMs: 10_000, initdeadMs: 20_000 });
    assert.equal(c.port, 694);
    assert.equal(c.autoFailback, true);
    assert.deepEqual(c.groups, [{ id: RECIPE_VIP, preferred: 'cookbook', vips: [{ address: RECIPE_VIP, prefixLength: 24, iface: 'eth0', label: 'eth0:1', family: 4 }], container: null }]);
    assert.deepEqual(c.auth, { sendKeyId: 1, keys: [{ id: 1, method: 'sha1', secret: Buffer.from('topsecretpassword') }] });
    assert.equal(c.vipLeaseSec, 10);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.groups[0]!.vips[0]) && Object.isFrozen(c.auth.keys));
    assert.deepEqual(
      r.warnings.map((w) => [w.line, w.key, w.rule]),
      [
        [11, 'use_logd', 'logging-directive-ignored'],
        [2, 'key 1', 'weak-secret'],
      ],
    );
  });

  test('loads on the secondary, its host name folded to lower case as Heartbeat does', async () => {
    assert.equal((await loaded({ hostname: 'COOKBOOK2' })).node, 'cookbook2');
  });

  test('HB_* variables override the files', async () => {
    const env = { HB_NODE: 'cookbook2', HB_KEEPALIVE: '100ms', HB_WARNTIME: '400ms', HB_DEADTIME: '800ms', HB_INITDEAD: '3s', HB_UDPPORT: '695', HB_AUTO_FAILBACK: 'off', HB_API_HOST: '127.0.0.1', HB_API_PORT: '9700', HB_LOG_LEVEL: 'debug', HB_VIP_LEASE: '5', HB_RECONCILE: '250ms' };
    const c = await loaded({ env, hostname: 'elsewhere' });
    assert.equal(c.node, 'cookbook2');
    assert.deepEqual(c.timing, { keepaliveMs: 100, warntimeMs: 400, deadtimeMs: 800, initdeadMs: 3000 });
    assert.equal(c.port, 695);
    assert.equal(c.autoFailback, false);
    assert.deepEqual(c.api, { host: '127.0.0.1', port: 9700, tokenFile: null });
    assert.equal(c.log.level, 'debug');
    assert.equal(c.vipLeaseSec, 5);
    assert.equal(c.reconcileMs, 250);
  });

  test('an overridden deadtime moves the timing Heartbeat derives from it', async () => {
    const c = await loaded({ haCf: recipeWith('warntime 5\n', ''), env: { HB_DEADTIME: '20' } });
    assert.deepEqual(c.timing, { keepaliveMs: 1000, warntimeMs: 10_000, deadtimeMs: 20_000, initdeadMs: 20_000 });
  });

  test('a bad override names the variable', async () => {
    const { problems } = await problemsOf({ env: { HB_KEEPALIVE: 'soon' } });
    assert.deepEqual(
      problems.map((p) => [p.file, p.line, p.key, p.rule]),
      [[null, null, 'HB_KEEPALIVE', 'invalid-value']],
    );
    assert.match(formatProblems(problems), /^HB_KEEPALIVE: keepalive: "soon" is not a duration .* — fix: write a duration/);
  });
});

describe('ha.cf', () => {
  test("missing timing directives take Heartbeat's defaults", async () => {
    const bare = 'ucast eth0 10.77.0.12\nauto_failback off\nnode cookbook cookbook2\n';
    assert.deepEqual((await loaded({ haCf: bare })).timing, { keepaliveMs: 1000, warntimeMs: 15_000, deadtimeMs: 30_000, initdeadMs: 30_000 });
    assert.equal((await loaded({ haCf: `${bare}deadtime 5\n` })).timing.initdeadMs, 12_000);
    assert.equal((await loaded({ haCf: `${bare}deadtime 8\nwarntime 4\n` })).timing.initdeadMs, 16_000);
  });

  test('reads comments, blank lines, ms units, several nodes per line and every medium', async () => {
    const haCf = [
      '# two links', '', 'keepalive 500ms   # half a second', 'deadtime 3', 'warntime 1.5', 'initdead 12',
      'udpport 694', 'auto_failback off', 'node cookbook cookbook2', 'ucast eth0 10.77.0.11',
      'mcast eth1 239.0.0.94 694 2 1', 'bcast eth2 eth3', 'ucast eth0 10.77.0.12', 'ping 10.77.0.1', 'logfile /var/log/ha-log', 'crm off',
    ].join('\n');
    const c = await loaded({ haCf, interfaces: null });
    assert.deepEqual(c.timing, { keepaliveMs: 500, warntimeMs: 1500, deadtimeMs: 3000, initdeadMs: 12_000 });
    assert.equal(c.autoFailback, false);
    assert.deepEqual(c.paths, [
      { kind: 'ucast', iface: 'eth0', peers: ['10.77.0.11', '10.77.0.12'] },
      { kind: 'mcast', iface: 'eth1', group: '239.0.0.94', ttl: 2, loop: true },
      { kind: 'bcast', iface: 'eth2' },
      { kind: 'bcast', iface: 'eth3' },
    ]);
    assert.deepEqual(c.pingNodes, ['10.77.0.1']);
    assert.equal(c.log.file, '/var/log/ha-log');
  });

  test('a missing auto_failback is taken as on, with a warning', async () => {
    const r = await load({ haCf: recipeWith('auto_failback on\n', '') });
    assert.ok(r.ok);
    assert.equal(r.config.autoFailback, true);
    assert.ok(r.warnings.some((w) => w.rule === 'auto-failback-default' && w.fix.includes('auto_failback on')));
    const overridden = await load({ haCf: recipeWith('auto_failback on\n', ''), env: { HB_AUTO_FAILBACK: 'off' } });
    assert.ok(overridden.ok && !overridden.config.autoFailback);
    assert.ok(!overridden.warnings.some((w) => w.rule === 'auto-failback-default'), 'the variable set it');
  });
});

describe('haresources', () => {
  test('two groups, each with its own preferred node, give an active/active pair', async () => {
    const c = await loaded({ haresources: 'cookbook IPaddr::10.77.0.100/24/eth0:1\ncookbook2 IPaddr2::10.77.0.101/24/eth0\n' });
    assert.deepEqual(
      c.groups.map((g) => [g.id, g.preferred, g.vips.map((v) => `${v.address}/${v.prefixLength} ${v.label}`)]),
      [
        ['10.77.0.100', 'cookbook', ['10.77.0.100/24 eth0:1']],
        ['10.77.0.101', 'cookbook2', ['10.77.0.101/24 null']],
      ],
    );
  });

  test('an IPv6 VIP has family 6, no label, and the canonical address as group id', async () => {
    const c = await loaded({ haresources: 'cookbook IPaddr2::2001:DB8:0::100/64/eth0\n' });
    assert.deepEqual(c.groups, [{ id: '2001:db8::100', preferred: 'cookbook', vips: [{ address: '2001:db8::100', prefixLength: 64, iface: 'eth0', label: null, family: 6 }], container: null }]);
  });

  test('a backslash continues a line; a bare address means IPaddr; comments are skipped', async () => {
    const c = await loaded({ haresources: '# web\n\ncookbook IPaddr::10.77.0.100/24/eth0:1 \\\n   10.77.0.101/24/eth0  # second\n' });
    assert.equal(c.groups.length, 1);
    assert.deepEqual(
      c.groups[0]!.vips.map((v) => v.address),
      ['10.77.0.100', '10.77.0.101'],
    );
  });

  test('docker::NAME after the addresses protects a container, with the default policy', async () => {
    const c = await loaded({ haresources: 'cookbook IPaddr::10.77.0.100/24/eth0:1 docker::web\ncookbook2 10.77.0.101/24/eth0\n' });
    assert.deepEqual(c.groups[0]!.container, { name: 'web', onAcquire: 'unpause-or-start', onRelease: 'pause', project: null, stopTimeoutSec: 10 });
    assert.equal(c.groups[0]!.vips.length, 1);
    assert.equal(c.groups[1]!.container, null);
  });

  test('docker::NAME::ON_ACQUIRE::ON_RELEASE sets the policy; a lone ON_ACQUIRE keeps the default release', async () => {
    const c = await loaded({ haresources: 'cookbook 10.77.0.100/24/eth0 docker::web::restart::stop\ncookbook2 10.77.0.101/24/eth0 docker::db::start\n' });
    assert.deepEqual(
      c.groups.map((g) => g.container),
      [
        { name: 'web', onAcquire: 'restart', onRelease: 'stop', project: null, stopTimeoutSec: 10 },
        { name: 'db', onAcquire: 'start', onRelease: 'pause', project: null, stopTimeoutSec: 10 },
      ],
    );
  });
});

/**
 * Every refusal names the file, the line (when there is one), a stable rule and a fix; the
 * formatted line starts with file:line.
 */
describe('refusals', () => {
  const cases: { name: string; setup: Setup; file: string; line: number | null; rule: ConfigProblem['rule']; fix?: RegExp }[] = [
    { name: 'authkeys readable by others', setup: { modes: { authkeys: 0o644 } }, file: 'authkeys', line: null, rule: 'secret-file-mode', fix: /^chmod 600 \/.*authkeys$/ },
    { name: 'authkeys writable by the group', setup: { modes: { authkeys: 0o620 } }, file: 'authkeys', line: null, rule: 'secret-file-mode' },
    { name: 'an unknown directive', setup: { haCf: recipeWith('use_logd yes', 'stonith_host * null') }, file: 'ha.cf', line: 11, rule: 'unknown-directive', fix: /supported: .*ucast/ },
    { name: 'an obsolete directive, with its replacement', setup: { haCf: `${RECIPE['ha.cf']}nice_failback on\n` }, file: 'ha.cf', line: 12, rule: 'unknown-directive', fix: /auto_failback on/ },
    { name: 'deadtime not above 2 × keepalive', setup: { haCf: recipeWith('deadtime 10', 'deadtime 2') }, file: 'ha.cf', line: 5, rule: 'deadtime-too-small', fix: /raise deadtime or lower keepalive/ },
    { name: 'warntime not below deadtime', setup: { haCf: recipeWith('warntime 5', 'warntime 10') }, file: 'ha.cf', line: 6, rule: 'warntime-out-of-range' },
    { name: 'warntime below keepalive', setup: { haCf: recipeWith('warntime 5', 'warntime 500ms') }, file: 'ha.cf', line: 6, rule: 'warntime-out-of-range' },
    { name: 'initdead below deadtime', setup: { haCf: `${RECIPE['ha.cf']}initdead 5\n` }, file: 'ha.cf', line: 12, rule: 'initdead-too-small' },
    { name: 'auto_failback legacy', setup: { haCf: recipeWith('auto_failback on', 'auto_failback legacy') }, file: 'ha.cf', line: 8, rule: 'unsupported-setting', fix: /auto_failback on/ },
    { name: 'autojoin other than none', setup: { haCf: recipeWith('autojoin none', 'autojoin any') }, file: 'ha.cf', line: 1, rule: 'unsupported-setting', fix: /autojoin none/ },
    { name: 'a use_logd that is not yes or no', setup: { haCf: recipeWith('use_logd yes', 'use_logd maybe') }, file: 'ha.cf', line: 11, rule: 'invalid-value' },
    { name: 'a directive with missing arguments', setup: { haCf: recipeWith(`ucast eth0 ${RECIPE_PEERS[1]}`, 'ucast eth0') }, file: 'ha.cf', line: 3, rule: 'directive-arguments', fix: /ucast IFACE PEER-ADDRESS/ },
    { name: 'a directive given twice', setup: { haCf: `${RECIPE['ha.cf']}keepalive 2\n` }, file: 'ha.cf', line: 12, rule: 'duplicate-directive' },
    { name: 'a ucast peer that is not an address', setup: { haCf: recipeWith(`ucast eth0 ${RECIPE_PEERS[1]}`, 'ucast eth0 cookbook2') }, file: 'ha.cf', line: 3, rule: 'invalid-value', fix: /IPv4 address/ },
    { name: 'an mcast port other than udpport', setup: { haCf: `${RECIPE['ha.cf']}mcast eth0 239.0.0.94 695 1 0\n` }, file: 'ha.cf', line: 12, rule: 'mcast-port-mismatch' },
    { name: 'no path at all', setup: { haCf: recipeWith(RECIPE_PEERS.map((p) => `ucast eth0 ${p}\n`).join(''), '') }, file: 'ha.cf', line: null, rule: 'no-path', fix: /ucast eth0/ },
    { name: 'a path on a missing interface', setup: { interfaces: ['lo'] }, file: 'ha.cf', line: 2, rule: 'iface-missing', fix: /this host has lo/ },
    { name: 'a VIP on a missing interface', setup: { haCf: RECIPE['ha.cf'].replaceAll('ucast eth0', 'ucast lo'), interfaces: ['lo'] }, file: 'haresources', line: 1, rule: 'iface-missing' },
    { name: 'this host not among the nodes', setup: { hostname: 'web3' }, file: 'ha.cf', line: 9, rule: 'own-node-undeclared', fix: /node web3.*HB_NODE/ },
    { name: 'a haresources node missing from the node lines', setup: { haresources: 'ghost IPaddr::10.77.0.100/24/eth0:1\n' }, file: 'haresources', line: 1, rule: 'node-undeclared', fix: /node ghost/ },
    { name: 'an address without prefix and interface', setup: { haresources: 'cookbook IPaddr::10.77.0.100\n' }, file: 'haresources', line: 1, rule: 'invalid-value', fix: /IPaddr::10.77.0.100|10\.77\.0\.100\/24\/eth0/ },
    { name: 'an unknown resource agent', setup: { haresources: 'cookbook IPaddr::10.77.0.100/24/eth0 drbddisk::r0\n' }, file: 'haresources', line: 1, rule: 'unknown-resource-agent', fix: /docker::NAME/ },
    { name: 'a label on an IPv6 address', setup: { haresources: 'cookbook IPaddr::2001:db8::1/64/eth0:1\n' }, file: 'haresources', line: 1, rule: 'invalid-value', fix: /2001:db8::1\/64\/eth0$/ },
    { name: 'a docker resource before an address', setup: { haresources: 'cookbook docker::web 10.77.0.100/24/eth0\n' }, file: 'haresources', line: 1, rule: 'invalid-line', fix: /move docker::web to the end/ },
    { name: 'two containers in one group', setup: { haresources: '\ncookbook 10.77.0.100/24/eth0 docker::web docker::db\n' }, file: 'haresources', line: 2, rule: 'invalid-line', fix: /one docker::/ },
    { name: 'a container without an address', setup: { haresources: 'cookbook docker::web\n' }, file: 'haresources', line: 1, rule: 'invalid-line', fix: /IPaddr::10\.0\.0\.100\/24\/eth0 docker::web/ },
    { name: 'docker without a name', setup: { haresources: 'cookbook 10.77.0.100/24/eth0 docker::\n' }, file: 'haresources', line: 1, rule: 'invalid-line', fix: /docker::NAME/ },
    { name: 'docker with too many arguments', setup: { haresources: 'cookbook 10.77.0.100/24/eth0 docker::web::start::stop::now\n' }, file: 'haresources', line: 1, rule: 'invalid-line' },
    { name: 'an unknown container acquire policy', setup: { haresources: 'cookbook 10.77.0.100/24/eth0 docker::web::resume\n' }, file: 'haresources', line: 1, rule: 'invalid-value', fix: /unpause-or-start/ },
    { name: 'an unknown container release policy', setup: { haresources: 'cookbook 10.77.0.100/24/eth0 docker::web::start::kill\n' }, file: 'haresources', line: 1, rule: 'invalid-value', fix: /pause, stop, none/ },
    { name: 'an invalid container name', setup: { haresources: 'cookbook 10.77.0.100/24/eth0 docker::-web\n' }, file: 'haresources', line: 1, rule: 'invalid-value', fix: /container/ },
    { name: 'a line without resources', setup: { haresources: 'cookbook\n' }, file: 'haresources', line: 1, rule: 'invalid-line' },
    { name: 'two groups with one id', setup: { haresources: 'cookbook 10.77.0.100/24/eth0\ncookbook2 10.77.0.100/24/eth0\n' }, file: 'haresources', line: 2, rule: 'duplicate-group' },
    { name: 'no auth line', setup: { authkeys: '1 sha1 secret\n' }, file: 'authkeys', line: null, rule: 'send-key-missing', fix: /auth 1/ },
    { name: 'an auth line naming no key', setup: { authkeys: 'auth 2\n1 sha1 secret\n' }, file: 'authkeys', line: 1, rule: 'send-key-missing' },
    { name: 'a secret with spaces', setup: { authkeys: 'auth 1\n1 sha1 two words\n' }, file: 'authkeys', line: 2, rule: 'invalid-line' },
    { name: 'sha1 without a secret', setup: { authkeys: 'auth 1\n1 sha1\n' }, file: 'authkeys', line: 2, rule: 'invalid-value' },
    { name: 'an unknown method', setup: { authkeys: 'auth 1\n1 rot13 secret\n' }, file: 'authkeys', line: 2, rule: 'invalid-value', fix: /sha1/ },
    { name: 'a missing haresources', setup: { omit: 'haresources' }, file: 'haresources', line: null, rule: 'file-unreadable' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const r = await load(c.setup);
      const problems = r.ok ? [] : r.problems;
      const p = problems.find((x) => x.rule === c.rule);
      assert.ok(p, `no ${c.rule} among:\n${formatProblems(problems)}`);
      assert.equal(p.file, join(r.dir, c.file));
      assert.equal(p.line, c.line);
      assert.ok(p.fix.length > 0 && p.message.length > 0);
      if (c.fix) assert.match(p.fix, c.fix);
      const place = c.line === null ? `${p.file}: ` : `${p.file}:${c.line}: `;
      assert.ok(formatProblems([p]).startsWith(place), formatProblems([p]));
    });
  }

  test('secrets never appear in a message', async () => {
    const { problems } = await problemsOf({ authkeys: 'auth 1\n1 sha1 hunter2 hunter3\nhunter4 hunter5\n' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.rule]),
      [[1, 'send-key-missing'], [2, 'invalid-line'], [3, 'invalid-line']],
    );
    assert.doesNotMatch(formatProblems(problems), /hunter/);
  });

  test('crc is accepted with a loud warning', async () => {
    const r = await load({ authkeys: 'auth 1\n1 crc\n' });
    assert.ok(r.ok);
    assert.deepEqual(r.config.auth.keys, [{ id: 1, method: 'crc', secret: Buffer.alloc(0) }]);
    assert.deepEqual(
      r.warnings.filter((w) => w.rule === 'crc-not-authentication').map((w) => [w.line, w.fix]),
      [[2, 'write 1 sha1 SECRET instead, on every node']],
    );
  });

  test('a bad node name is reported as invalid, naming it and the rule for names', async () => {
    const { problems } = await problemsOf({ haCf: `${RECIPE['ha.cf']}node -dash under_score.ok\n` });
    assert.deepEqual(
      problems.map((p) => [p.line, p.key, p.rule]),
      [[12, 'node', 'invalid-value']],
    );
    assert.match(problems[0]!.message, /^node: "-dash" is not a node name .*starting with a letter or digit/);
  });

  test('a typo in a bare address is a bad address, not an unknown resource agent', async () => {
    const cases: [string, RegExp][] = [
      ['cookbook 10.77.0.300/24/eth0:1\n', /^10\.77\.0\.300\/24\/eth0:1: "10\.77\.0\.300" is not a valid IPv4 address/],
      ['cookbook 10.77.0/24/eth0\n', /"10\.77\.0" is not a valid IPv4 address/],
      ['cookbook 10.77.0.1O0/24/eth0\n', /"10\.77\.0\.1O0" is not a valid IPv4 address/],
      ['cookbook 2001:db8::g1/64/eth0\n', /"2001:db8::g1" is not a valid IPv6 address/],
      ['cookbook fe80::1%eth0/64/eth0\n', /has a zone \("%eth0"\)/],
    ];
    for (const [haresources, message] of cases) {
      const { problems } = await problemsOf({ haresources });
      assert.deepEqual(
        problems.map((p) => [p.line, p.rule]),
        [[1, 'invalid-value']],
        formatProblems(problems),
      );
      assert.match(problems[0]!.message, message);
    }
    // A resource agent, even one with hex-looking letters, is still judged as an agent.
    const { problems } = await problemsOf({ haresources: 'cookbook 10.77.0.100/24/eth0 db2::db2inst1\n' });
    assert.deepEqual(
      problems.map((p) => [p.rule, p.message.split(';')[0]]),
      [['unknown-resource-agent', 'unknown resource agent "db2"']],
    );
  });

  test("a bad first address is reported once, not again as the group's name derived from it", async () => {
    const { problems } = await problemsOf({ haresources: 'cookbook IPaddr::10.77.0.1%x/24/eth0\n' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.key, p.rule]),
      [[1, 'IPaddr::10.77.0.1%x/24/eth0', 'invalid-value']],
    );
  });

  test('a missing auth line is reported, and the stand-in send key is not judged again', async () => {
    // The stand-in is the first key's id, here an invalid 256 that is reported on its own line.
    const bad = await problemsOf({ authkeys: '256 sha1 secret\n1 sha1 secret\n' });
    assert.deepEqual(
      bad.problems.map((p) => [p.line, p.key, p.rule]),
      [
        [null, 'auth', 'send-key-missing'],
        [1, 'key 256', 'invalid-value'],
      ],
    );
    assert.ok(!bad.problems.some((p) => p.message.includes('auth.send_key')), formatProblems(bad.problems));
    // A malformed auth line is the problem; "no auth line" would repeat it.
    const malformed = await problemsOf({ authkeys: 'auth one\n1 sha1 secret\n' });
    assert.deepEqual(
      malformed.problems.map((p) => [p.line, p.rule]),
      [[1, 'invalid-line']],
    );
    // A variable naming the send key is the operator's value, and judged.
    const variable = await problemsOf({ authkeys: '1 sha1 secret\n', env: { HB_AUTH_SEND_KEY: '300' } });
    assert.deepEqual(
      variable.problems.map((p) => [p.file === null ? null : 'authkeys', p.key, p.rule]),
      [
        [null, 'HB_AUTH_SEND_KEY', 'invalid-value'],
        ['authkeys', 'auth', 'send-key-missing'],
      ],
    );
  });

  test('an authkeys with no key and no auth line is one problem', async () => {
    for (const authkeys of ['', '# nothing yet\n']) {
      const { problems } = await problemsOf({ authkeys });
      assert.deepEqual(
        problems.map((p) => [p.line, p.rule]),
        [[null, 'send-key-missing']],
      );
      assert.match(problems[0]!.fix, /auth 1 and 1 sha1 SECRET/);
    }
    const { problems } = await problemsOf({ authkeys: 'auth one\n' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.rule, p.message]),
      [
        [null, 'send-key-missing', 'authkeys has no key'],
        [1, 'invalid-line', 'the auth line must be "auth N"'],
      ],
    );
  });

  test('control characters from the files are escaped in messages, never printed raw', async () => {
    const { problems } = await problemsOf({ haCf: `${RECIPE['ha.cf']}\u0000\u0001x\u001b[2J\nauto_failback \u202eno\n`.replace('auto_failback on\n', '') });
    assert.deepEqual(
      problems.map((p) => [p.line, p.rule, p.message]),
      [
        [11, 'unknown-directive', 'unknown or unsupported directive "\\u0000\\u0001x\\u001b[2J"'],
        [12, 'invalid-value', 'auto_failback "\\u202eno" is not on or off'],
      ],
    );
    for (const p of problems) assert.doesNotMatch(formatProblems([p]), /[\p{Cc}\p{Cf}]/u);
  });

  test('every problem of every file is reported at once', async () => {
    const { problems, dir } = await problemsOf({
      haCf: recipeWith('use_logd yes', 'respawn hacluster /usr/lib/heartbeat/ipfail').replace('deadtime 10', 'deadtime 2'),
      modes: { authkeys: 0o644 },
      haresources: 'ghost IPaddr::10.77.0.100/24/eth0:1\n',
    });
    assert.deepEqual(
      problems.map((p) => [p.file?.slice(dir.length + 1), p.line, p.rule]),
      [
        ['ha.cf', 5, 'deadtime-too-small'],
        ['ha.cf', 6, 'warntime-out-of-range'],
        ['ha.cf', 11, 'unknown-directive'],
        ['authkeys', null, 'secret-file-mode'],
        ['haresources', 1, 'node-undeclared'],
      ],
    );
  });

  test('a schema problem, a cross-check, authkeys open to others and a missing token file, in one pass', async () => {
    const token = join(await files.dir({}), 'none.key');
    const { problems, dir } = await problemsOf({
      haCf: recipeWith('udpport 694', 'udpport 70000'),
      modes: { authkeys: 0o644 },
      haresources: 'ghost IPaddr::10.77.0.100/24/eth0:1\n',
      env: { HB_API_TOKEN_FILE: token },
    });
    assert.deepEqual(
      problems.map((p) => [p.file?.replace(`${dir}/`, ''), p.line, p.rule]),
      [
        ['ha.cf', 7, 'invalid-value'],
        ['authkeys', null, 'secret-file-mode'],
        ['haresources', 1, 'node-undeclared'],
        [token, null, 'file-unreadable'],
      ],
    );
    assert.equal(problems[3]!.key, 'HB_API_TOKEN_FILE');
    assert.match(formatProblems(problems), /ha\.cf:7: udpport: "70000" is not a whole number from 1 to 65535 — fix: write a whole number from 1 to 65535\n/);
  });

  test('a value the schema refuses is not judged again by a cross-check', async () => {
    // With no deadtime, warntime and initdead take the native defaults, which a cross-check
    // against keepalive would refuse; and with a node refused, whether this host's is declared
    // is not judged.
    const { problems } = await problemsOf({ haCf: recipeWith('node cookbook2', 'node -cookbook2'), env: { HB_DEADTIME: 'soon' }, hostname: 'cookbook2' });
    assert.deepEqual(
      problems.map((p) => [p.line, p.key, p.rule]),
      [
        [null, 'HB_DEADTIME', 'invalid-value'],
        [10, 'node', 'invalid-value'],
      ],
    );
  });
});
