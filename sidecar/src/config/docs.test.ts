import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { renderConfigTable } from './docs.js';

test('the README configuration table is the one the schema renders', async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const table = renderConfigTable();
  assert.ok(readme.includes(table), `README.md is out of date; paste this table into it:\n\n${table}\n`);
});
