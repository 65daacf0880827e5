/**
 * Whatever an operator writes, loading answers with a result: a config, or problems that each
 * say where and how to fix. It never throws.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { loadConfig } from './load.js';
import type { LoadResult } from './load.js';
import { describeConfig, envBindings } from './schema.js';
import { scratch } from '../../../test/support/scratch.js';

const files = await scratch();
after(() => files.remove());

/** Words that make lines the parsers take seriously, mixed with noise. */
const word = fc.oneof(
  fc.constantFrom(
    'keepalive', 'deadtime', 'warntime', 'initdead', 'udpport', 'auto_failback', 'node', 'ucast', 'mcast', 'bcast', 'ping', 'autojoin', 'crm', 'use_logd', 'logfile',
    'auth', 'sha1', 'md5', 'crc', 'IPaddr::', 'IPaddr2::10.77.0.100/24/eth0:1', '2001:db8::1/64/eth0', 'cookbook', 'eth0', '10.77.0.11', '239.0.0.94', '694', '1', '0', '500ms',
    'on', 'off', 'legacy', 'none', '#', '\\', '::', '/', '__proto__', 'constructor',
  ),
  fc.string({ maxLength: 6 }),
);
const text = fc.array(fc.array(word, { maxLength: 6 }).map((ws) => ws.join(' ')), { maxLength: 10 }).map((lines) => lines.join('\n'));
const env = fc.dictionary(fc.constantFrom(...envBindings().map((b) => b.env)), fc.oneof(word, fc.string({ maxLength: 6 })), { maxKeys: 3 });
const yamlText = fc.oneof(
  fc.string({ maxLength: 80 }),
  text,
  fc.dictionary(fc.constantFrom(...describeConfig().map((r) => r.key.split('.')[0]!), 'unknown'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((doc) => stringify(doc)),
);

function assertAnswered(r: LoadResult): void {
  for (const p of [...r.warnings, ...(r.ok ? [] : r.problems)]) {
    assert.ok(typeof p.message === 'string' && p.message.length > 0 && typeof p.fix === 'string' && p.fix.length > 0, JSON.stringify(p));
  }
  if (!r.ok) assert.ok(r.problems.length > 0);
}

test('any Heartbeat files load to a result, never an exception', async () => {
  await fc.assert(
    fc.asyncProperty(text, text, text, fc.constantFrom(0o600, 0o644), env, async (haCf, authkeys, haresources, mode, vars) => {
      const dir = await files.dir({ 'ha.cf': haCf, authkeys, haresources }, { authkeys: mode });
      assertAnswered(await loadConfig({ haDir: dir, env: vars, hostname: 'cookbook', interfaces: ['eth0'] }));
    }),
    { numRuns: 100 },
  );
});

test('any YAML loads to a result, never an exception', async () => {
  await fc.assert(
    fc.asyncProperty(yamlText, env, async (yaml, vars) => {
      const dir = await files.dir({ 'sidecar.yaml': yaml });
      assertAnswered(await loadConfig({ configPath: join(dir, 'sidecar.yaml'), env: vars, hostname: 'alpha', interfaces: null }));
    }),
    { numRuns: 100 },
  );
});
