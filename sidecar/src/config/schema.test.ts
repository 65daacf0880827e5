import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { formatDuration, parseDurationMs } from './duration.js';
import { formatProblems } from './format.js';
import { configHash, loadConfig } from './load.js';
import { describeConfig, envBindings } from './schema.js';
import { scratch } from '../../../test/support/scratch.js';
import type { Config } from './types.js';

const files = await scratch();
after(() => files.remove());

async function loadYaml(yaml: string): Promise<Config> {
  const dir = await files.dir({ 'sidecar.yaml': yaml });
  const r = await loadConfig({ configPath: join(dir, 'sidecar.yaml'), env: {}, hostname: 'alpha', interfaces: null });
  assert.ok(r.ok, r.ok ? '' : formatProblems(r.problems));
  return r.config;
}
const MINIMAL = 'nodes: [alpha, beta]\npaths: [{bcast: {iface: eth0}}]\nauth: {send_key: 1, keys: [{id: 1, secret: s3cret}]}\n';

test('durations: a bare number is seconds, as in ha.cf; ms, s and us units; rounded to milliseconds', () => {
  const cases: [unknown, number | null][] = [
    ['500ms', 500], ['1.5s', 1500], ['2', 2000], [2, 2000], [0.1, 100], ['.25', 250], ['1000us', 1], ['499us', 0],
    [' 10 MS ', 10], ['0', 0], ['x', null], ['1m', null], ['-1', null], [-1, null], [Number.NaN, null], [Infinity, null], [true, null], ['1e3', null], ['9'.repeat(30), null],
  ];
  for (const [input, ms] of cases) assert.equal(parseDurationMs(input), ms, String(input));
  assert.deepEqual([400, 1000, 1500, 1234, 30_000].map(formatDuration), ['400 ms', '1 s', '1.5 s', '1234 ms', '30 s']);
});

test('describeConfig lists every key once, with its variable, default and description', () => {
  const rows = describeConfig();
  assert.equal(new Set(rows.map((r) => r.key)).size, rows.length);
  for (const r of rows) assert.ok(r.description.length > 10, r.key);
  const env = new Set(rows.map((r) => r.env));
  for (const name of ['HB_NODE', 'HB_KEEPALIVE', 'HB_WARNTIME', 'HB_DEADTIME', 'HB_INITDEAD', 'HB_UDPPORT', 'HB_AUTO_FAILBACK', 'HB_API_HOST', 'HB_API_PORT', 'HB_API_TOKEN_FILE', 'HB_LOG_LEVEL', 'HB_VIP_LEASE', 'HB_RECONCILE']) {
    assert.ok(env.has(name), name);
  }
  const row = (key: string) => rows.find((r) => r.key === key)!;
  assert.deepEqual(row('api.token_file'), { key: 'api.token_file', env: 'HB_API_TOKEN_FILE', default: 'null', description: row('api.token_file').description });
  assert.equal(row('nodes').default, null, 'required');
  assert.equal(row('nodes').env, null, 'lists have no variable');
  assert.deepEqual(
    envBindings().find((b) => b.env === 'HB_GARP_REPEAT_AFTER'),
    { env: 'HB_GARP_REPEAT_AFTER', path: ['garp', 'repeat_after'] },
  );
});

test('the documented defaults are the ones a minimal file gets', async () => {
  const c = await loadYaml(MINIMAL);
  const documented = (key: string) => describeConfig().find((r) => r.key === key)!.default;
  const ms = (key: string) => parseDurationMs(documented(key));
  assert.deepEqual(c.timing, { keepaliveMs: ms('keepalive'), warntimeMs: ms('warntime'), deadtimeMs: ms('deadtime'), initdeadMs: ms('initdead') });
  assert.equal(c.reconcileMs, ms('reconcile'));
  assert.deepEqual(c.garp, { burst: Number(documented('garp.burst')), repeatAfterMs: ms('garp.repeat_after'), refreshMs: ms('garp.refresh') });
  assert.deepEqual(c.api, { host: documented('api.host'), port: Number(documented('api.port')), tokenFile: null });
  assert.equal(c.port, Number(documented('udpport')));
  assert.equal(String(c.autoFailback), documented('auto_failback'));
  assert.equal(c.log.level, documented('log.level'));
});

test('configHash: equal across nodes, changed by any shared setting, and no function of a secret (issue 11 item 5)', async () => {
  const a = await loadYaml(`node: alpha\n${MINIMAL}`);
  const b = await loadYaml(`node: beta\n${MINIMAL}`);
  assert.match(configHash(a), /^[0-9a-f]{12}$/);
  assert.equal(configHash(a), configHash(b));
  assert.notEqual(configHash(a), configHash(await loadYaml(`${MINIMAL}keepalive: 200ms\n`)));
  // /status is open: were the hash to change with the secret, it would be an offline oracle for it.
  assert.equal(configHash(a), configHash(await loadYaml(MINIMAL.replace('s3cret', 's3cret2'))));
  assert.notEqual(configHash(a), configHash(await loadYaml(MINIMAL.replace('id: 1, secret', 'id: 1, method: sha1, secret'))), 'the method is covered');
  assert.equal(configHash(a), configHash(await loadYaml(`deadtime: 800ms\n${MINIMAL}`)), 'a default written out changes nothing');
});

test('formatProblems: file:line, file, or variable first; warnings marked', () => {
  const text = formatProblems([
    { file: '/etc/ha.d/ha.cf', line: 7, key: 'deadtime', rule: 'deadtime-too-small', message: 'deadtime 2 s must be greater than 2 × keepalive (4 s)', fix: 'raise deadtime or lower keepalive' },
    { file: '/etc/ha.d/authkeys', line: null, key: 'authkeys', rule: 'secret-file-mode', message: 'holds secrets but is mode 644: group or others have access', fix: 'chmod 600 /etc/ha.d/authkeys' },
    { file: null, line: null, key: 'HB_NODE', rule: 'own-node-undeclared', message: 'this node is gamma', fix: 'add gamma to nodes' },
    { file: '/etc/ha.d/ha.cf', line: 11, key: 'use_logd', rule: 'logging-directive-ignored', message: 'use_logd has no effect', fix: 'remove the line' },
  ]);
  assert.equal(
    text,
    [
      '/etc/ha.d/ha.cf:7: deadtime 2 s must be greater than 2 × keepalive (4 s) — fix: raise deadtime or lower keepalive',
      '/etc/ha.d/authkeys: holds secrets but is mode 644: group or others have access — fix: chmod 600 /etc/ha.d/authkeys',
      'HB_NODE: this node is gamma — fix: add gamma to nodes',
      'warning: /etc/ha.d/ha.cf:11: use_logd has no effect — fix: remove the line',
    ].join('\n'),
  );
});
