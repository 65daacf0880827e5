import path from 'node:path';
import fs from 'node:fs';
import { createLab } from './netns.js';
import { startSidecar, writeRecipe, api } from './sidecar.js';
const lab = await createLab({ hosts: ['cookbook', 'cookbook2'], name: 'try' });
try {
  const s = [];
  for (const h of ['cookbook', 'cookbook2']) s.push(startSidecar(lab, h, ['--ha-dir', writeRecipe(lab, path.join(lab.dir, 'ha.d', h))]));
  await new Promise((r) => setTimeout(r, 4000));
  for (const x of s) console.log('=== ', x.host, '\n', fs.readFileSync(x.log, 'utf8').slice(0, 3000));
  console.log(await api(lab, 'cookbook', '/status').catch((e) => String(e)));
  console.log(await lab.holders('10.77.0.100'));
} finally { await lab.destroy(); }
