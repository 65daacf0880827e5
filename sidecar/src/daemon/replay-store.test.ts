/**
 * The replay window across a restart (issue 11 item 2): the marks a receiver kept are read back,
 * so a capture of the sender's current generation is refused after the receiver restarts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTime } from '../../../test/support/fake-time.js';
import { openReplayStore } from './replay-store.js';

const root = await mkdtemp(join(tmpdir(), 'hb-replay-'));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const file = () => join(root, `d${++n}`, 'replay-alpha.json');
const KEY = 'beta\u0000ucast:eth0';

test('a capture of the current generation is refused after the receiver restarts, crash or not', async () => {
  const f = file();
  const time = new FakeTime();
  const first = await openReplayStore({ file: f, timers: time, intervalMs: 500 });
  first.start();
  // The attacker records beta's datagrams 1–100 while alpha accepts them.
  for (let seq = 1; seq <= 100; seq++) assert.equal(first.guard.check(KEY, 7, seq), 'ok');
  await time.advance(500);
  // alpha crashes (no stop) and starts again.
  const second = await openReplayStore({ file: f, timers: new FakeTime(), intervalMs: 500 });
  assert.equal(second.warning, null);
  for (let seq = 1; seq <= 100; seq++) assert.equal(second.guard.check(KEY, 7, seq), 'replay', `seq ${seq}`);
  assert.equal(second.guard.check(KEY, 6, 500), 'stale', 'an older boot of beta');
  assert.equal(second.guard.check(KEY, 7, 101), 'ok', "beta's next real datagram");
  assert.equal(second.guard.check(KEY, 8, 1), 'ok', 'beta restarted meanwhile');
});

test('after a crash only the last interval can be replayed; a clean stop leaves nothing', async () => {
  const f = file();
  const time = new FakeTime();
  const store = await openReplayStore({ file: f, timers: time, intervalMs: 500 });
  store.start();
  for (let seq = 1; seq <= 10; seq++) store.guard.check(KEY, 7, seq);
  await time.advance(500);
  for (let seq = 11; seq <= 14; seq++) store.guard.check(KEY, 7, seq);
  const crashed = await openReplayStore({ file: f, timers: new FakeTime(), intervalMs: 500 });
  assert.equal(crashed.guard.check(KEY, 7, 10), 'replay');
  assert.equal(crashed.guard.check(KEY, 7, 12), 'ok', 'within the last interval: at most once, until the next real one');
  store.stop();
  const stopped = await openReplayStore({ file: f, timers: new FakeTime(), intervalMs: 500 });
  assert.equal(stopped.guard.check(KEY, 7, 14), 'replay');
  assert.equal(time.timerCount, 0, 'stop clears its timer');
});

test('a shorter text written over a longer one leaves a file that reads back as the newer marks', async () => {
  const f = file();
  const time = new FakeTime();
  const store = await openReplayStore({ file: f, timers: time, intervalMs: 100 });
  store.start();
  assert.equal(store.guard.check(KEY, 123_456_789, 987_654_321), 'ok');
  assert.equal(store.guard.check('gamma\u0000ucast:eth0', 5, 5), 'ok');
  await time.advance(100);
  const long = (await readFile(f)).length;
  assert.equal(store.guard.check(KEY, 123_456_790, 1), 'ok', 'beta restarted: a short sequence number again');
  store.stop();
  const text = await readFile(f, 'utf8');
  assert.equal(text.length, long, 'written in place, padded to the length it had');
  const again = await openReplayStore({ file: f, timers: new FakeTime(), intervalMs: 100 });
  assert.equal(again.warning, null);
  assert.equal(again.guard.check(KEY, 123_456_790, 1), 'replay');
  assert.equal(again.guard.check(KEY, 123_456_789, 987_654_322), 'stale');
});

test('nothing is written while no mark moves', async () => {
  const f = file();
  const time = new FakeTime();
  const store = await openReplayStore({ file: f, timers: time, intervalMs: 100 });
  store.start();
  await time.advance(1_000);
  const again = await openReplayStore({ file: f, timers: time, intervalMs: 100 });
  assert.deepEqual(again.guard.marks(), []);
  assert.equal(again.warning, null, 'no file is no warning');
});

test('a corrupt or hostile file starts empty with a warning, never a crash', async () => {
  for (const junk of ['{', '[]', '{"format":1,"marks":{"k":{"generation":1e300,"seq":-1}}}', 'x'.repeat(300_000)]) {
    const f = file();
    await rm(join(f, '..'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(f, '..'), { recursive: true }));
    await writeFile(f, junk);
    const store = await openReplayStore({ file: f, timers: new FakeTime(), intervalMs: 100 });
    assert.deepEqual(store.guard.marks(), []);
  }
});
