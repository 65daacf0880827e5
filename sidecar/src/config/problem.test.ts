import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeControls, problemAt, quote } from './problem.js';

test('escapeControls writes control and invisible format characters as JSON-style escapes', () => {
  assert.equal(escapeControls('a\u0000b\u0007\u001b[2J\u007f\u0085'), 'a\\u0000b\\u0007\\u001b[2J\\u007f\\u0085');
  assert.equal(escapeControls('tab\there\nline\r'), 'tab\\there\\nline\\r');
  // Bidi overrides and zero-width characters can reorder or hide text on a terminal.
  assert.equal(escapeControls('\u202eevil\u200b\ufeff\u2028'), '\\u202eevil\\u200b\\ufeff\\u2028');
  assert.equal(escapeControls('\u{e0001}'), '\\u{e0001}');
  assert.equal(escapeControls('grüße, nœud, ÿ, — and \\u0000 as typed'), 'grüße, nœud, ÿ, — and \\u0000 as typed');
});

test('quote: double quotes, JSON escapes for quotes and backslashes, long text cut', () => {
  assert.equal(quote('-dash'), '"-dash"');
  assert.equal(quote('a"b\\c\u0000'), '"a\\"b\\\\c\\u0000"');
  assert.equal(quote('x'.repeat(100)), `"${'x'.repeat(57)}..."`);
  assert.equal(quote('abcdef', 5), '"ab..."');
});

test('problemAt escapes what it is given, so no problem carries a raw control character', () => {
  const p = problemAt({ file: '/etc/ha.d/ha.cf', line: 3, key: 'bad\u0007key' }, 'unknown-directive', 'unknown \u001b[31m', 'remove \u0000');
  assert.deepEqual([p.key, p.message, p.fix], ['bad\\u0007key', 'unknown \\u001b[31m', 'remove \\u0000']);
});
