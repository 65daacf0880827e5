/**
 * Replays the kept fuzz corpus (test/faults/corpus, format in corpus/entry.ts): every datagram
 * through the wire decoder and every configuration through loadConfig. Neither may throw, and
 * each must answer exactly as its entry records: a bad input gets a typed rejection (a reject
 * reason, or problems with a rule, a message and a place), never an exception. An entry that
 * fuzz.ts saved with expectation "crash" fails here until the bug is fixed and the entry's
 * expectation is set to what the fixed code answers.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { formatProblems } from '../../sidecar/src/config/format.js';
import type { ConfigProblem } from '../../sidecar/src/config/load.js';
import { RULES, isWarning } from '../../sidecar/src/config/problem.js';
import { decode, encode } from '../../sidecar/src/wire/codec.js';
import type { DecodeResult } from '../../sidecar/src/wire/types.js';
import { REJECT_REASONS } from '../../sidecar/src/wire/types.js';
import { loadConfigEntry, readConfigEntries, readWireEntries } from './corpus/entry.js';

const wire = await readWireEntries();
const config = await readConfigEntries();
const root = await mkdtemp(join(tmpdir(), 'hb-corpus-'));
after(() => rm(root, { recursive: true, force: true }));

test('the corpus holds entries of both kinds, and every wire reject reason is covered', () => {
  assert.ok(wire.length >= 20, `${wire.length} wire entries`);
  assert.ok(config.length >= 15, `${config.length} config entries`);
  // replay, stale, unknownNode and ownNode are the receiver's judgement (wire/replay.ts, the runtime), not the decoder's.
  const decoderReasons = REJECT_REASONS.filter((r) => !['replay', 'stale', 'unknownNode', 'ownNode'].includes(r));
  const seen = new Set(wire.map((w) => w.entry.expect));
  assert.deepEqual(decoderReasons.filter((r) => !seen.has(r)), []);
  assert.ok(seen.has('ok'));
});

describe('wire corpus', () => {
  for (const { name, entry } of wire) {
    test(`${name}: ${entry.expect} (${entry.about})`, () => {
      let result: DecodeResult;
      try {
        result = decode(entry.bytes, entry.keys);
      } catch (err) {
        return assert.fail(`decode threw instead of rejecting: ${(err as Error).stack ?? String(err)}`);
      }
      assert.equal(result.ok ? 'ok' : result.reason, entry.expect, result.ok ? 'decoded' : result.detail);
      if (!result.ok) {
        assert.ok(REJECT_REASONS.includes(result.reason));
        assert.ok(result.detail.trim().length > 0, 'a rejection says why');
        return;
      }
      // An accepted datagram is exactly what the sender encoded: re-encoding gives the same bytes.
      const key = entry.keys.find((k) => k.id === result.keyId);
      assert.ok(key !== undefined);
      assert.equal(encode(result.message, key).toString('hex'), entry.bytes.toString('hex'));
    });
  }
});

/** The entry's files and variables are the only places a problem may point at. */
function assertPlaced(p: ConfigProblem, dir: string, env: Readonly<Record<string, string>>): void {
  const shown = formatProblems([p]);
  assert.ok(Object.hasOwn(RULES, p.rule), `untyped rule: ${shown}`);
  assert.ok(p.message.trim().length > 0 && p.fix.trim().length > 0, `empty message or fix: ${JSON.stringify(p)}`);
  // Text from the files is quoted with its control characters escaped: none reaches a terminal raw.
  assert.doesNotMatch(shown, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u, `an unescaped control character: ${JSON.stringify(shown)}`);
  if (p.file !== null) {
    assert.ok(p.file.length > 0, shown);
    assert.ok(p.line === null || (Number.isInteger(p.line) && p.line >= 1), `line ${p.line}: ${shown}`);
    // A secret_file named in the configuration may live anywhere; then the key says who named it.
    assert.ok(p.file.startsWith(`${dir}/`) || (p.key !== null && p.key.length > 0), `points outside the entry: ${shown}`);
  } else {
    assert.ok(p.key !== null && (Object.hasOwn(env, p.key) || p.key === 'host name'), `names neither a file nor a set variable: ${shown}`);
  }
}

describe('config corpus', () => {
  for (const { name, entry } of config) {
    test(`${name}: ${entry.expect.about}`, async () => {
      let loaded: Awaited<ReturnType<typeof loadConfigEntry>>;
      try {
        loaded = await loadConfigEntry(entry, root);
      } catch (err) {
        return assert.fail(`loadConfig threw instead of answering: ${(err as Error).stack ?? String(err)}`);
      }
      const { dir, result } = loaded;
      const problems = result.ok ? [] : result.problems;
      const all = formatProblems([...problems, ...result.warnings]);
      assert.equal(result.ok, entry.expect.ok, all);
      assert.deepEqual(problems.map((p) => p.rule), entry.expect.codes ?? [], all);
      if (entry.expect.warnings !== undefined) assert.deepEqual(result.warnings.map((w) => w.rule), entry.expect.warnings, all);
      if (!result.ok) assert.ok(problems.length > 0, 'a refusal names at least one problem');
      for (const p of problems) {
        assert.ok(!isWarning(p), `a warning reported as an error: ${formatProblems([p])}`);
        assertPlaced(p, dir, entry.env);
      }
      for (const w of result.warnings) {
        assert.ok(isWarning(w), `an error reported as a warning: ${formatProblems([w])}`);
        assertPlaced(w, dir, entry.env);
      }
    });
  }
});
