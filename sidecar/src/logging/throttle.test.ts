import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTime } from '../../../test/support/fake-time.js';
import { createLogThrottle } from './throttle.js';

test('one line per key per window; the next line says how many were left out', async () => {
  const time = new FakeTime();
  let counted = 0;
  const t = createLogThrottle({ windowMs: 10_000, now: () => time.now(), onSuppressed: () => counted++ });
  assert.deepEqual(t.admit('not-found'), { log: true, suppressed: 0 });
  for (let i = 0; i < 4471; i++) assert.equal(t.admit('not-found').log, false);
  assert.equal(t.admit('unauthorized').log, true, 'another reason has its own window');
  await time.advance(10_000);
  assert.deepEqual(t.admit('not-found'), { log: true, suppressed: 4471 });
  assert.equal(counted, 4471);
});

test('keys beyond the bound share one window, so memory stays bounded', () => {
  const time = new FakeTime();
  const t = createLogThrottle({ windowMs: 1_000, now: () => time.now(), maxKeys: 2 });
  assert.equal(t.admit('a').log, true);
  assert.equal(t.admit('b').log, true);
  assert.equal(t.admit('c').log, true);
  assert.equal(t.admit('d').log, false);
  assert.equal(t.admit('a').log, false);
});
