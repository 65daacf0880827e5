import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { hmac, type HmacHash } from './hmac.js';

test('equals createHmac for every method, for keys shorter than, equal to and longer than a block', () => {
  fc.assert(
    fc.property(fc.constantFrom<HmacHash>('sha256', 'sha1', 'md5'), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 1500 }), (method, key, data) => {
      const secret = Buffer.from(key);
      const expected = createHmac(method, secret).update(data).digest();
      assert.deepEqual(hmac(method, secret, Buffer.from(data)), expected);
      assert.deepEqual(hmac(method, secret, Buffer.from(data)), expected, 'again, from the cached pads');
    }),
    { numRuns: 500 },
  );
});

test('RFC 4231 test case 2 (HMAC-SHA-256, key "Jefe")', () => {
  const mac = hmac('sha256', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'));
  assert.equal(mac.toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('two keys with the same bytes in different buffers give the same MAC; different keys differ', () => {
  const data = Buffer.from('heartbeat');
  assert.deepEqual(hmac('sha1', Buffer.from('k1'), data), hmac('sha1', Buffer.from('k1'), data));
  assert.notDeepEqual(hmac('sha1', Buffer.from('k1'), data), hmac('sha1', Buffer.from('k2'), data));
});
