/**
 * The configuration against hostile or broken input (issue 11 items 5, 6, 8): secrets are bytes,
 * never decoded; no function of a secret is published; files that are not regular, too large,
 * or owned by another user are refused with a clear problem; parsing is linear and list sizes
 * are bounded.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encode, decode } from '../wire/codec.js';
import type { Message } from '../wire/types.js';
import { configHash, loadConfig, type LoadResult } from './load.js';

const root = await mkdtemp(join(tmpdir(), 'hb-hardening-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;

const HA_CF = 'keepalive 1\ndeadtime 10\nudpport 694\nucast eth0 10.77.0.11\nucast eth0 10.77.0.12\nauto_failback on\nnode alpha\nnode beta\n';
const HARESOURCES = 'alpha IPaddr::10.77.0.100/24/eth0\n';
const STRONG = 'auth 1\n1 sha256 Zx8k2PqLm4Nw7Rt1Vb5Yc9\n';

async function dir(files: Record<string, string | Buffer>): Promise<string> {
  const d = join(root, `d${++n}`);
  spawnSync('mkdir', ['-p', d]);
  for (const [name, body] of Object.entries({ 'ha.cf': HA_CF, authkeys: STRONG, haresources: HARESOURCES, ...files })) {
    await writeFile(join(d, name), body);
    await chmod(join(d, name), name === 'authkeys' || name.endsWith('.key') ? 0o600 : 0o644);
  }
  return d;
}

const loadHa = (d: string): Promise<LoadResult> => loadConfig({ haDir: d, env: {}, hostname: 'alpha', interfaces: null });
const rules = (r: LoadResult) => (r.ok ? [] : r.problems.map((p) => p.rule));

const HEARTBEAT: Message = { type: 'heartbeat', node: 'alpha', generation: 1, seq: 1, sentAtMs: 1, priority: 0, healthy: true, standby: false, maintenance: false, takeoverEpoch: 0, groups: [], echoes: [] };

describe('secrets are bytes', () => {
  // Two 16-byte secrets that differ only in bytes that are not UTF-8: decoded as UTF-8 both
  // became sixteen U+FFFD, one key.
  const a = Buffer.from('8081828384858687 88898a8b8c8d8e8f'.replace(' ', ''), 'hex');
  const b = Buffer.from('90919293949596979899 9a9b9c9d9e9f'.replace(' ', ''), 'hex');

  test('two different binary secrets in authkeys load as two different keys, byte for byte', async () => {
    const ra = await loadHa(await dir({ authkeys: Buffer.concat([Buffer.from('auth 1\n1 sha256 '), a, Buffer.from('\n')]) }));
    const rb = await loadHa(await dir({ authkeys: Buffer.concat([Buffer.from('auth 1\n1 sha256 '), b, Buffer.from('\n')]) }));
    assert.ok(ra.ok && rb.ok);
    assert.deepEqual(ra.config.auth.keys[0]!.secret, a);
    assert.deepEqual(rb.config.auth.keys[0]!.secret, b);
    // And the wire tells them apart: a datagram signed with one is refused by the other.
    const signed = encode(HEARTBEAT, ra.config.auth.keys[0]!);
    assert.equal(decode(signed, ra.config.auth.keys).ok, true);
    assert.deepEqual(decode(signed, rb.config.auth.keys), { ok: false, reason: 'badAuth', detail: 'sha256 MAC does not match key id 1' });
  });

  test('byte 0xA0 inside a UTF-8 secret (à is C3 A0) is not a space: the word stays whole', async () => {
    const r = await loadHa(await dir({ authkeys: Buffer.from('auth 1\n1 sha256 voilà-un-secret-assez-long\n', 'utf8') }));
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems));
    assert.deepEqual(r.config.auth.keys[0]!.secret, Buffer.from('voilà-un-secret-assez-long', 'utf8'));
  });

  test('a binary secret_file is kept as its bytes, less the trailing line break', async () => {
    const d = await dir({ 'hb.key': Buffer.concat([a, Buffer.from('\n')]) });
    const yaml = `nodes: [alpha, beta]\npaths: [{bcast: {iface: eth0}}]\nauth: {send_key: 1, keys: [{id: 1, secret_file: ${join(d, 'hb.key')}}]}\n`;
    await writeFile(join(d, 'c.yaml'), yaml);
    const r = await loadConfig({ configPath: join(d, 'c.yaml'), env: {}, hostname: 'alpha', interfaces: null });
    assert.ok(r.ok);
    assert.deepEqual(r.config.auth.keys[0]!.secret, a);
  });

  test('the config hash does not change with the secret: /status is no oracle for it', async () => {
    const ra = await loadHa(await dir({ authkeys: 'auth 1\n1 sha256 Zx8k2PqLm4Nw7Rt1Vb5Yc9\n' }));
    const rb = await loadHa(await dir({ authkeys: 'auth 1\n1 sha256 Qw3e4r5t6y7u8i9o0pAsDf\n' }));
    assert.ok(ra.ok && rb.ok);
    assert.equal(configHash(ra.config), configHash(rb.config));
  });

  test("the recipe's example secret, a short one and a monotonous one are warned of; a random one is not", async () => {
    for (const [secret, expected] of [
      ['topsecretpassword', /published example secret/],
      ['abc123', /6 bytes/],
      ['aaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbb', /only 2 distinct bytes/],
      ['Zx8k2PqLm4Nw7Rt1Vb5Yc9', null],
    ] as const) {
      const r = await loadHa(await dir({ authkeys: `auth 1\n1 sha1 ${secret}\n` }));
      assert.ok(r.ok);
      const weak = r.warnings.filter((w) => w.rule === 'weak-secret');
      if (expected === null) assert.deepEqual(weak, []);
      else assert.match(weak[0]?.message ?? '', expected);
    }
  });
});

describe('files', () => {
  test('an ha.cf that is a FIFO is refused at once, not waited on', async () => {
    const d = await dir({});
    await rm(join(d, 'ha.cf'));
    spawnSync('mkfifo', [join(d, 'ha.cf')]);
    const r = await loadHa(d);
    assert.ok(!r.ok);
    assert.match(r.problems.find((p) => p.rule === 'file-unreadable')?.message ?? '', /not a regular file \(a FIFO\)/);
  });

  test('a 50 MB haresources is refused by its size before it is read', async () => {
    const d = await dir({ haresources: `alpha ${'IPaddr::10.77.0.100/24/eth0 '.repeat(1_900_000)}\n` });
    const started = performance.now();
    const r = await loadHa(d);
    const took = performance.now() - started;
    assert.deepEqual(rules(r), ['file-too-large']);
    assert.ok(took < 1000, `${took} ms`);
  });

  test('a secret file that belongs to another user is refused, as one open to others is', { skip: process.geteuid?.() !== 0 ? 'needs root to chown' : false }, async () => {
    const d = await dir({});
    await chown(join(d, 'authkeys'), 12345, 12345);
    const r = await loadHa(d);
    assert.ok(!r.ok);
    assert.deepEqual(rules(r), ['secret-file-owner']);
    assert.match(r.problems[0]!.fix, /^chown 0 /);
  });
});

describe('parsers: linear, bounded', () => {
  test('a 100k-line continuation is read in linear time', async () => {
    const d = await dir({ haresources: `alpha \\\n${'  \\\n'.repeat(100_000)}IPaddr::10.77.0.100/24/eth0\n` });
    const started = performance.now();
    const r = await loadHa(d);
    const took = performance.now() - started;
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems));
    assert.ok(took < 2000, `${took} ms`);
  });

  test('10,000 ping lines: refused by check-config with one problem, not accepted and spawned at once', async () => {
    const pings = Array.from({ length: 10_000 }, (_, i) => `ping 10.77.${1 + (i >> 8)}.${i & 255}\n`).join('');
    const started = performance.now();
    const r = await loadHa(await dir({ 'ha.cf': HA_CF + pings }));
    assert.deepEqual(rules(r), ['too-many']);
    assert.match(r.ok ? '' : r.problems[0]!.message, /more than 16 ping nodes/);
    assert.ok(performance.now() - started < 2000);
  });

  test('100 VIPs in one group (the benchmark scale case) load; 1,025 are refused as too many', async () => {
    const line = (n: number) => `alpha ${Array.from({ length: n }, (_, i) => `IPaddr::10.77.${1 + (i >> 8)}.${i & 255}/16/eth0`).join(' ')}\n`;
    const hundred = await loadHa(await dir({ haresources: line(100) }));
    assert.ok(hundred.ok, hundred.ok ? '' : JSON.stringify(hundred.problems));
    assert.equal(hundred.config.groups[0]!.vips.length, 100);
    assert.deepEqual(rules(await loadHa(await dir({ haresources: line(1025) }))), ['too-many']);
  });

  test('a megabyte of junk lines prints a bounded list of problems', async () => {
    const r = await loadHa(await dir({ 'ha.cf': HA_CF + 'bogus\n'.repeat(150_000) }));
    assert.ok(!r.ok);
    assert.equal(r.problems.length, 101);
    assert.match(r.problems.at(-1)!.message, /149900 more problems/);
  });

  test('YAML lists are bounded too', async () => {
    const d = await dir({});
    const yaml = `nodes: [alpha, beta]\npaths: [{bcast: {iface: eth0}}]\nping_nodes: [${Array.from({ length: 200 }, (_, i) => `10.77.1.${i}`).join(', ')}]\nauth: {send_key: 1, keys: [{id: 1, secret: Zx8k2PqLm4Nw7Rt1Vb5Yc9}]}\n`;
    await writeFile(join(d, 'c.yaml'), yaml);
    const r = await loadConfig({ configPath: join(d, 'c.yaml'), env: {}, hostname: 'alpha', interfaces: null });
    assert.ok(!r.ok);
    assert.match(r.problems.map((p) => p.message).join('\n'), /ping_nodes/);
  });
});
