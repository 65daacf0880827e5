/**
 * The README's configuration table is rendered from the one schema (describeConfig), so the two
 * cannot drift: when a key, default or description changes, this test prints the new table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describeConfig } from '../../sidecar/src/config/schema.js';

function renderConfigTable(): string {
  const rows = describeConfig().map((r) => `| \`${r.key}\` | ${r.env === null ? '' : `\`${r.env}\``} | ${r.default === null ? '*required*' : `\`${r.default}\``} | ${r.description} |`);
  return ['| key | env | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

test('the README configuration table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const table = renderConfigTable();
  assert.ok(readme.includes(table), `README.md is out of date; paste this table into it:\n\n${table}\n`);
});
