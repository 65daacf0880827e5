/** The README's configuration table, rendered from the one schema so the two cannot drift. */
import { describeConfig } from './schema.js';

export function renderConfigTable(): string {
  const rows = describeConfig().map((r) => `| \`${r.key}\` | ${r.env === null ? '' : `\`${r.env}\``} | ${r.default === null ? '*required*' : `\`${r.default}\``} | ${r.description} |`);
  return ['| key | env | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
