/** The etcd client's TLS credentials (etcd.ts): which CAs it trusts, from the files configured. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootCertificates } from 'node:tls';
import { credentialsOf } from './etcd.js';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nOWN CA\n-----END CERTIFICATE-----\n');
const CERT = Buffer.from('client certificate');
const KEY = Buffer.from('client key');

test('a client certificate without ca_file keeps the system CAs', () => {
  const c = credentialsOf({ ca: null, cert: CERT, key: KEY })!;
  assert.ok(rootCertificates.length > 0, "Node.js carries the system's CAs");
  assert.equal(c.rootCertificate.toString(), rootCertificates.join('\n'));
  assert.equal(c.certChain, CERT);
  assert.equal(c.privateKey, KEY);
});

test('ca_file replaces the system CAs; without TLS files there are no credentials', () => {
  assert.deepEqual(credentialsOf({ ca: CA, cert: null, key: null }), { rootCertificate: CA });
  assert.equal(credentialsOf(null), undefined);
});
