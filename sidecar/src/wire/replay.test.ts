import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayGuard } from './replay.js';

test('the first datagram from a node is accepted, whatever its numbers', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 1_732_512_000_000, 0), 'ok');
});

test('within one generation only a higher sequence is new', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 5, 10), 'ok');
  assert.equal(guard.check('cookbook', 5, 10), 'replay');
  assert.equal(guard.check('cookbook', 5, 9), 'replay');
  assert.equal(guard.check('cookbook', 5, 11), 'ok');
  // Gaps are fine: lost datagrams are normal on UDP.
  assert.equal(guard.check('cookbook', 5, 20), 'ok');
});

test('a lower generation is an older boot: stale, even with a higher sequence', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 5, 10), 'ok');
  assert.equal(guard.check('cookbook', 4, 1_000), 'stale');
});

test('a higher generation is a restart: its sequence starts again from anything', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 5, 10), 'ok');
  assert.equal(guard.check('cookbook', 6, 1), 'ok');
  assert.equal(guard.check('cookbook', 6, 1), 'replay');
  assert.equal(guard.check('cookbook', 5, 11), 'stale');
});

test('a rejected datagram does not move the bar', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 5, 10), 'ok');
  assert.equal(guard.check('cookbook', 4, 99), 'stale');
  assert.equal(guard.check('cookbook', 5, 8), 'replay');
  assert.equal(guard.check('cookbook', 5, 9), 'replay');
  assert.equal(guard.check('cookbook', 5, 11), 'ok');
});

test('each sender has its own bar', () => {
  const guard = new ReplayGuard();
  assert.equal(guard.check('cookbook', 5, 10), 'ok');
  assert.equal(guard.check('cookbook2', 1, 1), 'ok');
  assert.equal(guard.check('cookbook2', 1, 1), 'replay');
  assert.equal(guard.check('cookbook', 5, 11), 'ok');
});
